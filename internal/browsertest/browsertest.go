// Package browsertest opens pages in headless Chromium for the tests of
// the report, batch and chart pages.
package browsertest

import (
	"context"
	"os/exec"
	"testing"
	"time"
)

// Chromium returns the browser the tests drive. Without one the test
// skips, so that `make test` works on a machine with only Go; make test
// lists every skip, and CI (which installs Debian's chromium) fails on it.
func Chromium(t testing.TB) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Skip("no Chromium: install Debian's chromium to run this test")
	return ""
}

// DumpDOM opens the file at path alone in headless Chromium, with extra
// flags such as --virtual-time-budget, and returns the DOM once its
// scripts have run.
func DumpDOM(t testing.TB, path string, extra ...string) []byte {
	t.Helper()
	return run(t, append(extra, "--dump-dom", "file://"+path))
}

// Screenshot opens the file at path alone in headless Chromium, with extra
// flags such as --window-size, and writes a PNG of it to shot.
func Screenshot(t testing.TB, path, shot string, extra ...string) {
	t.Helper()
	run(t, append(extra, "--screenshot="+shot, "file://"+path))
}

// run starts headless Chromium with a fresh profile and no network
// services, then args, and returns its output.
func run(t testing.TB, args []string) []byte {
	t.Helper()
	browser := Chromium(t)
	flags := append([]string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir=" + t.TempDir()}, args...)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, browser, flags...).Output()
	if err != nil {
		t.Fatalf("chromium %v: %v", args, err)
	}
	return out
}
