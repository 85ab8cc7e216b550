package main

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// progress reports long work on stderr: a bar when stderr is a terminal,
// a plain line every few seconds otherwise, nothing with -q.
type progress struct {
	w     io.Writer
	quiet bool
	tty   bool

	mu   sync.Mutex
	bar  *progressbar.ProgressBar
	last time.Time
}

func newProgress(w io.Writer, quiet bool) *progress {
	tty := false
	if f, ok := w.(*os.File); ok {
		tty = term.IsTerminal(int(f.Fd()))
	}
	return &progress{w: w, quiet: quiet, tty: tty}
}

// logf prints one line (unless quiet).
func (p *progress) logf(format string, a ...any) {
	if p.quiet {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.bar != nil {
		p.bar.Clear()
	}
	fmt.Fprintf(p.w, format+"\n", a...)
}

// rows returns an Engine progress hook for rows of evaluation labelled what.
func (p *progress) rows(what string) func(done, total int) { return p.steps(what, "rows") }

// steps returns a progress hook for work counted in units, labelled what:
// a bar on a terminal, a line every few seconds of long work otherwise.
func (p *progress) steps(what, units string) func(done, total int) {
	if p.quiet {
		return nil
	}
	var start time.Time
	prev := 0
	return func(done, total int) {
		p.mu.Lock()
		defer p.mu.Unlock()
		if start.IsZero() || done < prev {
			start = time.Now() // a new evaluation began
		}
		prev = done
		if p.tty {
			if p.bar == nil || p.bar.GetMax() != total {
				p.bar = progressbar.NewOptions(total, progressbar.OptionSetWriter(p.w), progressbar.OptionSetDescription(what),
					progressbar.OptionShowCount(), progressbar.OptionSetPredictTime(true), progressbar.OptionClearOnFinish(),
					progressbar.OptionThrottle(100*time.Millisecond))
			}
			p.bar.Set(done)
			if done >= total {
				p.bar.Finish()
				p.bar = nil
				prev = 0
			}
			return
		}
		// Plain lines only for evaluations that take a while.
		if time.Since(start) > 2*time.Second && (done >= total || time.Since(p.last) > 5*time.Second) {
			p.last = time.Now()
			fmt.Fprintf(p.w, "%s: %d/%d %s (%.0f%%)\n", what, done, total, units, 100*float64(done)/float64(max(total, 1)))
		}
		if done >= total {
			prev = 0
			start = time.Time{}
		}
	}
}

// runs returns a batch progress hook: one bar on a terminal, a line per
// finished run otherwise.
func (p *progress) runs() func(done, total, failed int) {
	switch {
	case p.quiet:
		return nil
	case p.tty:
		return progressBar(p.w)
	}
	return func(done, total, failed int) {
		p.logf("runs: %d of %d done, %d failed", done, total, failed)
	}
}

// progressBar returns a batch progress hook that draws one bar on w: runs
// done of total, failures so far, and the time left.
func progressBar(w io.Writer) func(done, total, failed int) {
	var bar *progressbar.ProgressBar
	return func(done, total, failed int) {
		if bar == nil {
			bar = progressbar.NewOptions(total,
				progressbar.OptionSetWriter(w),
				progressbar.OptionSetDescription("runs"),
				progressbar.OptionShowCount(),
				progressbar.OptionSetPredictTime(true),
				progressbar.OptionSetElapsedTime(true),
				progressbar.OptionThrottle(100*time.Millisecond),
				progressbar.OptionOnCompletion(func() { fmt.Fprintln(w) }),
			)
		}
		if failed > 0 {
			bar.Describe(fmt.Sprintf("runs (%d failed)", failed))
		}
		bar.Set(done)
	}
}
