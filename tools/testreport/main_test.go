package main

import (
	"bytes"
	"os"
	"regexp"
	"strings"
	"testing"
)

func run(t *testing.T, stream string, allow []string) (string, int) {
	t.Helper()
	var res []*regexp.Regexp
	for _, a := range allow {
		res = append(res, regexp.MustCompile(a))
	}
	var out bytes.Buffer
	r := &report{out: &out, pending: map[string][]string{}}
	if err := r.read(strings.NewReader(stream)); err != nil {
		t.Fatal(err)
	}
	code := r.summarize(res, allow != nil)
	return out.String(), code
}

// TestReportPrintsWhatGoTestPrintsAndListsSkips feeds a real `go test -json`
// stream (testdata/stream.json: a package with a passing, a failing and two
// skipped tests, and a package that does not build).
func TestReportPrintsWhatGoTestPrintsAndListsSkips(t *testing.T) {
	b, err := os.ReadFile("testdata/stream.json")
	if err != nil {
		t.Fatal(err)
	}
	out, code := run(t, string(b), []string{`: no GPU: `})
	if code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	want := []string{
		"b/b_test.go:5:33: undefined: undefined\n",
		"FAIL\texample.com/tr/b [build failed]\n",
		"--- FAIL: TestFails (0.00s)\n    a_test.go:6: context\n    a_test.go:6: boom\n",
		"FAIL\texample.com/tr/a\t",
		"skipped tests (2):\n",
		"  example.com/tr/a TestNoData/sub: fixture x missing  NOT ALLOWED\n",
		"  example.com/tr/a TestNoGPU: no GPU: no device\n",
		"FAIL: 1 skipped tests are not in the allow-list\n",
		"FAIL\t2 tests passed, 1 failed, 2 skipped\n",
	}
	rest := out
	for _, w := range want {
		i := strings.Index(rest, w)
		if i < 0 {
			t.Fatalf("output lacks %q after the lines before it:\n%s", w, out)
		}
		rest = rest[i+len(w):]
	}
	if strings.Contains(out, "quiet") || strings.Contains(out, "=== RUN") {
		t.Errorf("a passing test's output or -v lines were printed:\n%s", out)
	}
}

func TestReportPassesWithOnlyAllowedSkips(t *testing.T) {
	stream := `{"Action":"start","Package":"p"}
{"Action":"run","Package":"p","Test":"TestGPU"}
{"Action":"output","Package":"p","Test":"TestGPU","Output":"=== RUN   TestGPU\n"}
{"Action":"output","Package":"p","Test":"TestGPU","Output":"    gpu_test.go:9: no GPU: none here\n"}
{"Action":"output","Package":"p","Test":"TestGPU","Output":"--- SKIP: TestGPU (0.00s)\n"}
{"Action":"skip","Package":"p","Test":"TestGPU"}
{"Action":"output","Package":"p","Output":"PASS\n"}
{"Action":"output","Package":"p","Output":"ok  \tp\t0.01s\n"}
{"Action":"pass","Package":"p"}
`
	out, code := run(t, stream, []string{`: no GPU: `})
	if code != 0 || out != "ok  \tp\t0.01s\nskipped tests (1):\n  p TestGPU: no GPU: none here\nok\t0 tests passed, 0 failed, 1 skipped\n" {
		t.Errorf("exit %d, output:\n%s", code, out)
	}
	// Without an allow-list skips are listed, not failed.
	if _, code := run(t, strings.Replace(stream, "no GPU", "no data", 1), nil); code != 0 {
		t.Errorf("exit %d without -allow, want 0", code)
	}
	if _, code := run(t, strings.Replace(stream, "no GPU", "no data", 1), []string{`: no GPU: `}); code != 1 {
		t.Errorf("exit %d for a skip outside the allow-list, want 1", code)
	}
}

func TestReportFailsOnAnEmptyStream(t *testing.T) {
	out, code := run(t, "go: cannot find main module\n", nil)
	if code != 1 || !strings.Contains(out, "cannot find main module") {
		t.Errorf("exit %d, output %q", code, out)
	}
}

func TestReportShowsTheOutputOfATestThatNeverEnded(t *testing.T) {
	stream := `{"Action":"start","Package":"p"}
{"Action":"run","Package":"p","Test":"TestSlow"}
{"Action":"output","Package":"p","Test":"TestSlow","Output":"=== RUN   TestSlow\n"}
{"Action":"output","Package":"p","Test":"TestSlow","Output":"panic: test timed out after 10m0s\n"}
{"Action":"output","Package":"p","Test":"TestSlow","Output":"\trunning tests:\n"}
{"Action":"output","Package":"p","Output":"FAIL\tp\t600.1s\n"}
{"Action":"fail","Package":"p","Elapsed":600.1}
`
	out, code := run(t, stream, nil)
	if code != 1 || !strings.HasPrefix(out, "panic: test timed out after 10m0s\n\trunning tests:\nFAIL\tp\t600.1s\n") {
		t.Errorf("exit %d, output:\n%s", code, out)
	}
}
