package graph

import (
	"errors"
	"strings"
	"testing"
)

func TestOpenFallsBackToCPUWhenAutoFindsNoCUDA(t *testing.T) {
	saved := OpenCUDA
	defer func() { OpenCUDA = saved }()
	for _, hook := range []func(Options) (Backend, error){
		nil,
		func(Options) (Backend, error) { return nil, errors.New("worker missing") },
	} {
		OpenCUDA = hook
		var lines []string
		b, err := Open("auto", Options{Logf: func(f string, a ...any) { lines = append(lines, f) }})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(b.Name(), "cpu") || len(lines) != 1 {
			t.Errorf("auto gave %s with %d notices", b.Name(), len(lines))
		}
		if _, err := Open("cuda", Options{}); err == nil {
			t.Error("cuda opened without a device")
		}
	}
	OpenCUDA = nil
	if _, err := Open("cuda", Options{}); !errors.Is(err, ErrNoCUDA) || !strings.Contains(err.Error(), "no CUDA device") {
		t.Errorf("cuda without a client: %v", err)
	}
	if _, err := Open("tpu", Options{}); err == nil {
		t.Error("unknown device accepted")
	}
	if b, err := Open("cpu", Options{}); err != nil || !strings.HasPrefix(b.Name(), "cpu") {
		t.Errorf("cpu: %v %v", b, err)
	}
}
