package jobs

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// TestRunConfigOfOtherLibraries reads RL Zoo's OrderedDict dumps and
// CleanRL's folder name, and fails on a folder with no config.
func TestRunConfigOfOtherLibraries(t *testing.T) {
	zoo := filepath.Join(t.TempDir(), "td3", "Pendulum-v1_3")
	if err := os.MkdirAll(filepath.Join(zoo, "Pendulum-v1"), 0o755); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(zoo, "Pendulum-v1", "config.yml"), []byte("!!python/object/apply:collections.OrderedDict\n- - - learning_rate\n    - 0.001\n  - - policy_kwargs\n    - dict(net_arch=[400, 300])\n"), 0o644)
	os.WriteFile(filepath.Join(zoo, "Pendulum-v1", "args.yml"), []byte("!!python/object/apply:collections.OrderedDict\n- - - algo\n    - td3\n  - - seed\n    - 3\n"), 0o644)
	c, err := RunConfig(zoo)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"config.learning_rate": "0.001", "config.policy_kwargs": "dict(net_arch=[400, 300])", "args.algo": "td3", "args.seed": "3"}
	if !reflect.DeepEqual(c, want) {
		t.Errorf("RL Zoo config %v, want %v", c, want)
	}
	clean := filepath.Join(t.TempDir(), "Pendulum-v1__td3_continuous_action__7__1700000000")
	os.MkdirAll(clean, 0o755)
	if c, err := RunConfig(clean); err != nil || c["env_id"] != "Pendulum-v1" || c["seed"] != "7" || c["exp_name"] != "td3_continuous_action" {
		t.Errorf("CleanRL config %v, %v", c, err)
	}
	if _, err := RunConfig(t.TempDir()); err == nil {
		t.Error("a folder with no config gave no error")
	}
}

// FuzzRunConfig feeds config.yaml any bytes: RunConfig must neither panic
// nor hang (aliases stay names).
func FuzzRunConfig(f *testing.F) {
	for _, run := range []string{demoRun, "2026-06-20_09-15-00_pendulum-gen2"} {
		b, err := os.ReadFile(filepath.Join(testdata, "runs", run, "config.yaml"))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("a: &x [*x]\n"))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		if err := os.WriteFile(filepath.Join(dir, "config.yaml"), data, 0o644); err != nil {
			t.Fatal(err)
		}
		RunConfig(dir) // must not panic or hang
	})
}
