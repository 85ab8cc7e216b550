package main

import (
	"bufio"
	"encoding/json"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/rleval/rleval/internal/atomicfile"
)

// TestMain lets a test run this binary as rleval itself, as os/exec's
// tests do: with RLEVAL_TEST_ARGS set, it is the command line.
func TestMain(m *testing.M) {
	if args, ok := os.LookupEnv("RLEVAL_TEST_ARGS"); ok {
		os.Exit(run(strings.Split(args, "\x1f"), os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// TestInterruptedRunExits130LeavingNoPartialFile sends Ctrl-C and SIGTERM
// to `rleval run` once it has started evaluating: it must exit 130, and
// every file it left must be whole.
func TestInterruptedRunExits130LeavingNoPartialFile(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			out := t.TempDir()
			cmd := exec.Command(os.Args[0])
			args := []string{"run", "--grid", "512", "--device", "cpu", "--out", out, fixtures + "2026-02-14_13-38-10_pendulum-v1"}
			cmd.Env = append(os.Environ(), "RLEVAL_TEST_ARGS="+strings.Join(args, "\x1f"))
			stderr, err := cmd.StderrPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			sc := bufio.NewScanner(stderr)
			var seen []string
			for sc.Scan() {
				seen = append(seen, sc.Text())
				if strings.Contains(sc.Text(), " done in ") { // a job finished: the run is under way
					break
				}
			}
			if err := cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			for sc.Scan() {
				seen = append(seen, sc.Text())
			}
			cmd.Wait()
			if code := cmd.ProcessState.ExitCode(); code != exitInterrupted {
				t.Fatalf("exit %d after %v, want %d; stderr:\n%s", code, sig, exitInterrupted, strings.Join(seen, "\n"))
			}
			files := 0
			filepath.WalkDir(out, func(p string, d fs.DirEntry, err error) error {
				if err != nil || d.IsDir() {
					return err
				}
				files++
				if atomicfile.IsTemp(p) {
					t.Errorf("%s left behind", p)
				}
				if strings.HasSuffix(p, ".json") {
					if b, _ := os.ReadFile(p); !json.Valid(b) {
						t.Errorf("%s is half written", p)
					}
				}
				return nil
			})
			if _, err := os.Stat(filepath.Join(out, "2026-02-14_13-38-10_pendulum-v1", "report.html")); err == nil {
				t.Error("an interrupted run wrote its report")
			}
			t.Logf("%d whole files left", files)
		})
	}
}
