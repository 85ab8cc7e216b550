package plural

import "testing"

func TestN(t *testing.T) {
	for _, tt := range []struct {
		n    int
		noun string
		want string
	}{
		{1, "run", "1 run"},
		{0, "run", "0 runs"},
		{2, "group", "2 groups"},
		{1, "worker", "1 worker"},
		{3, "batch", "3 batches"},
	} {
		if got := N(tt.n, tt.noun); got != tt.want {
			t.Errorf("N(%d, %q) = %q, want %q", tt.n, tt.noun, got, tt.want)
		}
	}
}
