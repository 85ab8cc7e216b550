package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/rleval/rleval/batch"
	"github.com/rleval/rleval/jobs"
)

func TestBatchExitMapsOutcomesToDocumentedStatuses(t *testing.T) {
	for _, tt := range []struct {
		name string
		res  *batch.Result
		err  error
		want int
	}{
		{"all ok", &batch.Result{OK: 3, Partial: 1}, nil, exitOK},
		{"some failed", &batch.Result{OK: 3, Failed: 1}, nil, exitSomeFailed},
		{"usage", nil, fmt.Errorf("--shard: %w", jobs.ErrUsage), exitUsage},
		{"cancelled", &batch.Result{}, fmt.Errorf("batch: %w", context.Canceled), exitInterrupted},
		{"io", &batch.Result{}, os.ErrPermission, exitFailure},
		{"missing shards", &batch.Result{}, batch.ErrMissingShards, exitFailure},
	} {
		if got := batchExit(tt.res, tt.err); got != tt.want {
			t.Errorf("%s: exit %d, want %d", tt.name, got, tt.want)
		}
	}
}

func TestProgressBarDrawsCountsAndFailures(t *testing.T) {
	var buf bytes.Buffer
	p := progressBar(&buf)
	p(0, 4, 0)
	p(2, 4, 1)
	p(4, 4, 1)
	if s := buf.String(); !strings.Contains(s, "4/4") || !strings.Contains(s, "1 failed") {
		t.Fatalf("bar output %q lacks the count or the failures", s)
	}
}
