// Command testreport turns the event stream of `go test -json` back into
// go test's usual output, keeps the stream in a file, and accounts for
// skipped tests: it lists every skip with its reason and, with -allow,
// fails on any skip that the allow-list does not name.
//
//	go test -json ./... 2>&1 | go run ./tools/testreport [-o test.json] [-allow .ci/skips-allowed]
//
// The output is what `go test ./...` prints: a test's output only when it
// fails, then the package lines "ok  <pkg> <time>" or "FAIL <pkg>", followed
// by a "skipped tests:" summary. Lines that are not JSON (go's own messages)
// pass through. It exits 1 when a test or a build failed, when the stream
// held no test event at all, or when a skip is not allowed; its last line
// starts with "ok" or "FAIL" accordingly.
//
// The allow-list holds one regular expression a line (# starts a comment),
// matched against "<import path> <test name>: <reason>".
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"regexp"
	"slices"
	"strings"
)

// event is one line of `go test -json` (cmd/test2json).
type event struct {
	Action     string
	Package    string
	Test       string
	Output     string
	ImportPath string
}

// skip is one skipped test and the reason it printed.
type skip struct{ pkg, test, reason string }

func (s skip) String() string { return s.pkg + " " + s.test + ": " + s.reason }

// report accumulates the stream.
type report struct {
	out     io.Writer
	pending map[string][]string // output of running tests, by package + test
	order   []string            // keys of pending, in the order the tests started
	skips   []skip
	failed  bool
	events  int
	passed  int // tests (and subtests) that passed
	nfailed int // tests (and subtests) that failed
}

func main() {
	log.SetFlags(0)
	log.SetPrefix("testreport: ")
	save := flag.String("o", "", "also write the raw `go test -json` stream to this file")
	allow := flag.String("allow", "", "allow-list file: fail on a skip that none of its expressions matches")
	flag.Parse()
	if flag.NArg() > 0 {
		log.Fatal("usage: go test -json ./... 2>&1 | go run ./tools/testreport [-o file] [-allow file]")
	}
	var allowed []*regexp.Regexp
	if *allow != "" {
		var err error
		if allowed, err = readAllowList(*allow); err != nil {
			log.Fatal(err)
		}
	}
	in := io.Reader(os.Stdin)
	if *save != "" {
		f, err := os.Create(*save)
		if err != nil {
			log.Fatal(err)
		}
		defer f.Close()
		in = io.TeeReader(os.Stdin, f)
	}
	r := &report{out: os.Stdout, pending: map[string][]string{}}
	if err := r.read(in); err != nil {
		log.Fatal(err)
	}
	code := r.summarize(allowed, *allow != "")
	os.Exit(code)
}

func readAllowList(path string) ([]*regexp.Regexp, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var out []*regexp.Regexp
	for i, line := range strings.Split(string(b), "\n") {
		line, _, _ = strings.Cut(line, "#")
		if line = strings.TrimSpace(line); line == "" {
			continue
		}
		re, err := regexp.Compile(line)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, i+1, err)
		}
		out = append(out, re)
	}
	return out, nil
}

func (r *report) read(in io.Reader) error {
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		line := sc.Bytes()
		var e event
		d := json.NewDecoder(bytes.NewReader(line))
		if len(line) == 0 || line[0] != '{' || d.Decode(&e) != nil {
			fmt.Fprintln(r.out, string(line))
			continue
		}
		r.events++
		r.handle(e)
		// go's own stderr, merged into the stream, can end up on the
		// same line as an event.
		if rest := bytes.TrimSpace(line[d.InputOffset():]); len(rest) > 0 {
			fmt.Fprintln(r.out, string(rest))
		}
	}
	return sc.Err()
}

func (r *report) handle(e event) {
	key := e.Package + " " + e.Test
	switch {
	case e.Action == "build-output":
		fmt.Fprint(r.out, e.Output)
	case e.Action == "build-fail":
		r.failed = true
	case e.Test == "":
		// Package-level lines: "ok  pkg 1.2s", "FAIL", "FAIL pkg 1.2s",
		// "PASS" (dropped: go test prints it only with -v), panics.
		if e.Action == "output" && e.Output != "PASS\n" && !strings.HasPrefix(e.Output, "=== ") {
			if strings.HasPrefix(e.Output, "FAIL\t"+e.Package) {
				// A test binary that died (a panic, the -timeout) leaves
				// its running tests without an end: show what they said.
				r.flush(e.Package)
			}
			fmt.Fprint(r.out, e.Output)
		}
		if e.Action == "fail" {
			r.failed = true
		}
	case e.Action == "output":
		if _, ok := r.pending[key]; !ok {
			r.order = append(r.order, key)
		}
		r.pending[key] = append(r.pending[key], e.Output)
	case e.Action == "fail":
		r.failed = true
		r.nfailed++
		// test2json puts a test's log before its "--- FAIL" line; go
		// test prints that line first.
		var head, body []string
		for _, l := range r.pending[key] {
			switch {
			case strings.HasPrefix(l, "=== "):
			case strings.HasPrefix(strings.TrimSpace(l), "--- FAIL"):
				head = append(head, l)
			default:
				body = append(body, l)
			}
		}
		fmt.Fprint(r.out, strings.Join(append(head, body...), ""))
		delete(r.pending, key)
	case e.Action == "skip":
		r.skips = append(r.skips, skip{e.Package, e.Test, skipReason(r.pending[key])})
		delete(r.pending, key)
	case e.Action == "pass":
		r.passed++
		delete(r.pending, key)
	}
}

// flush prints the output of pkg's tests that never ended.
func (r *report) flush(pkg string) {
	for _, key := range r.order {
		if lines, ok := r.pending[key]; ok && strings.HasPrefix(key, pkg+" ") {
			for _, l := range lines {
				if !strings.HasPrefix(l, "=== ") {
					fmt.Fprint(r.out, l)
				}
			}
			delete(r.pending, key)
		}
	}
}

// skipReason is what a skipped test printed (t.Skip's message, and any
// log before it), without the file:line prefixes.
func skipReason(lines []string) string {
	var msg []string
	for _, l := range lines {
		t := strings.TrimSpace(l)
		if t == "" || strings.HasPrefix(t, "=== ") || strings.HasPrefix(t, "--- SKIP") {
			continue
		}
		if _, rest, ok := strings.Cut(t, ": "); ok && strings.Contains(t[:len(t)-len(rest)], ".go:") {
			t = rest
		}
		msg = append(msg, t)
	}
	if len(msg) == 0 {
		return "(no reason given)"
	}
	return strings.Join(msg, " ")
}

// summarize prints the skips and returns the exit code.
func (r *report) summarize(allowed []*regexp.Regexp, strict bool) int {
	code := 0
	if r.failed {
		code = 1
	}
	if r.events == 0 {
		fmt.Fprintln(r.out, "testreport: no test events: did go test run?")
		code = 1
	}
	slices.SortFunc(r.skips, func(a, b skip) int { return strings.Compare(a.String(), b.String()) })
	bad := 0
	if len(r.skips) > 0 {
		fmt.Fprintf(r.out, "skipped tests (%d):\n", len(r.skips))
	}
	for _, s := range r.skips {
		mark := ""
		if strict && !slices.ContainsFunc(allowed, func(re *regexp.Regexp) bool { return re.MatchString(s.String()) }) {
			mark = "  NOT ALLOWED"
			bad++
		}
		fmt.Fprintf(r.out, "  %s%s\n", s, mark)
	}
	if bad > 0 {
		fmt.Fprintf(r.out, "FAIL: %d skipped tests are not in the allow-list\n", bad)
		code = 1
	}
	// The last line says how it went, as go test's own last line does.
	verdict := "ok"
	if code != 0 {
		verdict = "FAIL"
	}
	fmt.Fprintf(r.out, "%s\t%d tests passed, %d failed, %d skipped\n", verdict, r.passed, r.nfailed, len(r.skips))
	return code
}
