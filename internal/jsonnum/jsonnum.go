// Package jsonnum holds the JSON number rleval writes for values that may
// be missing: JSON has no NaN or infinity, and encoding/json refuses them.
package jsonnum

import (
	"encoding/json"
	"math"
)

// Float is a float64 that encodes NaN and ±Inf as JSON null and finite
// values exactly; null reads back as NaN.
type Float float64

// MarshalJSON implements json.Marshaler.
func (n Float) MarshalJSON() ([]byte, error) {
	f := float64(n)
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return []byte("null"), nil
	}
	return json.Marshal(f)
}

// UnmarshalJSON implements json.Unmarshaler; null reads as NaN.
func (n *Float) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*n = Float(math.NaN())
		return nil
	}
	var f float64
	if err := json.Unmarshal(b, &f); err != nil {
		return err
	}
	*n = Float(f)
	return nil
}

// Ptr returns &Float(v), or nil for NaN: a number not computed is left out
// of an object whose field is tagged omitempty.
func Ptr(v float64) *Float {
	if math.IsNaN(v) {
		return nil
	}
	n := Float(v)
	return &n
}

// Floats converts v (nil stays nil).
func Floats(v []float64) []Float {
	if v == nil {
		return nil
	}
	out := make([]Float, len(v))
	for i, x := range v {
		out[i] = Float(x)
	}
	return out
}

// Float64s converts v back (nil stays nil).
func Float64s(v []Float) []float64 {
	if v == nil {
		return nil
	}
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = float64(x)
	}
	return out
}
