package flock

import (
	"bufio"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

func TestTryLockExcludesSecondHolder(t *testing.T) {
	path := filepath.Join(t.TempDir(), "locks", "run.lock")
	a, err := TryLock(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := TryLock(path); !errors.Is(err, ErrBusy) {
		t.Fatalf("second TryLock: %v, want ErrBusy", err)
	}
	if err := a.Unlock(); err != nil {
		t.Fatal(err)
	}
	b, err := TryLock(path)
	if err != nil {
		t.Fatalf("TryLock after Unlock: %v", err)
	}
	b.Unlock()
}

func TestAcquireWaitsForReleaseOrContext(t *testing.T) {
	path := filepath.Join(t.TempDir(), "run.lock")
	a, err := TryLock(path)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*poll)
	defer cancel()
	if _, err := Acquire(ctx, path); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Acquire of a held lock: %v, want the context's error", err)
	}
	got := make(chan error, 1)
	go func() {
		l, err := Acquire(context.Background(), path)
		if err == nil {
			l.Unlock()
		}
		got <- err
	}()
	a.Unlock()
	if err := <-got; err != nil {
		t.Fatalf("Acquire after release: %v", err)
	}
}

// TestLockExcludesAnotherProcess holds the lock in a child process (this
// test binary, re-run) and checks that this one cannot take it until the
// child exits.
func TestLockExcludesAnotherProcess(t *testing.T) {
	if path := os.Getenv("FLOCK_TEST_HOLD"); path != "" {
		l, err := TryLock(path)
		if err != nil {
			os.Exit(3)
		}
		os.Stdout.WriteString("held\n")
		time.Sleep(time.Hour) // until killed
		l.Unlock()
		return
	}
	path := filepath.Join(t.TempDir(), "run.lock")
	cmd := exec.Command(os.Args[0], "-test.run=^TestLockExcludesAnotherProcess$")
	cmd.Env = append(os.Environ(), "FLOCK_TEST_HOLD="+path)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(out)
	for sc.Scan() && sc.Text() != "held" {
	}
	if sc.Text() != "held" {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("child did not take the lock: %v", sc.Err())
	}
	if _, err := TryLock(path); !errors.Is(err, ErrBusy) {
		t.Errorf("TryLock while another process holds it: %v, want ErrBusy", err)
	}
	cmd.Process.Kill() // the kernel releases a killed holder's lock
	cmd.Wait()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	l, err := Acquire(ctx, path)
	if err != nil {
		t.Fatalf("lock of a killed holder: %v", err)
	}
	l.Unlock()
}
