package datafile

import (
	"math"
	"testing"
)

// TestFloat16IsExact pins binary16 decoding: normals, the largest, a
// subnormal, zero, and infinity and NaN.
func TestFloat16IsExact(t *testing.T) {
	tests := []struct {
		h    uint16
		want float32
	}{
		{0x3c00, 1}, {0xc000, -2}, {0x7bff, 65504}, {0x0001, float32(math.Ldexp(1, -24))},
		{0x0000, 0}, {0x3555, 0.333251953125},
	}
	for _, tc := range tests {
		if got := Float16(tc.h); got != tc.want {
			t.Errorf("Float16(%#04x) = %v, want %v", tc.h, got, tc.want)
		}
	}
	if !math.IsInf(float64(Float16(0x7c00)), 1) || !math.IsNaN(float64(Float16(0x7e00))) {
		t.Error("inf/nan")
	}
}
