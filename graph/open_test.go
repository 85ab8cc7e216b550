package graph

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

// TestOpenFallsBackToCPUWhenAutoFindsNoCUDA: auto uses the CPU, with one
// notice, when no CUDA client is registered or it fails; cuda is then an
// error (wrapping ErrNoCUDA without a client), an unknown device too.
func TestOpenFallsBackToCPUWhenAutoFindsNoCUDA(t *testing.T) {
	saved := devices
	defer func() { devices = saved }()
	for _, reg := range [][]device{
		nil,
		{{"cuda", func(Options) (Backend, error) { return nil, errors.New("worker missing") }}},
	} {
		devices = reg
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
	devices = nil
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

// TestRegisterDeviceIsGuardedAndOpensTheDevice: a registered device opens
// by name and first under auto and is listed; an empty, built-in or
// repeated name and a nil opener panic, as RegisterLayout does.
func TestRegisterDeviceIsGuardedAndOpensTheDevice(t *testing.T) {
	saved := devices
	defer func() { devices = saved }()
	devices = nil
	ref := NewReference()
	RegisterDevice("fake", func(Options) (Backend, error) { return ref, nil })
	if b, err := Open("fake", Options{}); err != nil || b != ref {
		t.Errorf("fake: %v, %v", b, err)
	}
	if b, err := Open("auto", Options{}); err != nil || b != ref {
		t.Errorf("auto: %v, %v", b, err)
	}
	if got := Devices(); !slices.Equal(got, []string{"auto", "cpu", "cuda", "fake", "gorgonia"}) {
		t.Errorf("Devices() = %q", got)
	}
	for name, f := range map[string]func(){
		"twice":    func() { RegisterDevice("fake", func(Options) (Backend, error) { return ref, nil }) },
		"empty":    func() { RegisterDevice("", func(Options) (Backend, error) { return ref, nil }) },
		"built-in": func() { RegisterDevice("cpu", func(Options) (Backend, error) { return ref, nil }) },
		"nil":      func() { RegisterDevice("other", nil) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", name)
				}
			}()
			f()
		}()
	}
}
