package jsonnum

import (
	"encoding/json"
	"math"
	"testing"
)

// TestFloatWritesNullForNonFiniteAndReadsItBackAsNaN pins the encoding
// every summary and job output relies on.
func TestFloatWritesNullForNonFiniteAndReadsItBackAsNaN(t *testing.T) {
	v := struct {
		A, B, C, D Float
		P          *Float `json:"p,omitempty"`
		Q          *Float `json:"q,omitempty"`
		S          []Float
	}{Float(math.NaN()), Float(math.Inf(-1)), 0.1, -3, Ptr(math.NaN()), Ptr(2.5), Floats([]float64{1, math.NaN()})}
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	const want = `{"A":null,"B":null,"C":0.1,"D":-3,"q":2.5,"S":[1,null]}`
	if string(b) != want {
		t.Fatalf("got %s, want %s", b, want)
	}
	var back struct {
		A, C Float
		S    []Float
	}
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	s := Float64s(back.S)
	if !math.IsNaN(float64(back.A)) || back.C != 0.1 || len(s) != 2 || s[0] != 1 || !math.IsNaN(s[1]) {
		t.Errorf("read back %+v, %v", back, s)
	}
	if Floats(nil) != nil || Float64s(nil) != nil {
		t.Error("nil did not stay nil")
	}
	if err := json.Unmarshal([]byte(`{"A":"x"}`), &back); err == nil {
		t.Error("a string read as a number")
	}
}
