package jobs

import "testing"

func TestInspectPrintsStepsAsIntegers(t *testing.T) {
	for _, c := range []struct {
		v    float64
		want string
	}{{1000999, "1000999"}, {1000, "1000"}, {0, "0"}, {2.5, "2.5"}, {1e20, "1e+20"}} {
		if got := fmtStep(c.v); got != c.want {
			t.Errorf("fmtStep(%v) = %q, want %q", c.v, got, c.want)
		}
	}
}
