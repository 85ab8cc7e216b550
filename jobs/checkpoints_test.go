package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/rleval/rleval/internal/browsertest"
	"github.com/rleval/rleval/internal/fixture"
)

// checkpointRun is tools/make_checkpoints.py's RL Zoo TD3 run: five
// rl_model_<N>_steps.zip (N = 100..500), the final model at step 600, a
// replay buffer; PyTorch's arrays per step in expected-checkpoints.
var (
	checkpointRun   = filepath.Join(testdata, "checkpoints", "logs", "td3", "Pendulum-v1_1")
	checkpointSteps = []int64{100, 200, 300, 400, 500, 600}
)

func TestParseCheckpoints(t *testing.T) {
	for in, want := range map[string]CheckpointSpec{
		"": {}, "all": {All: true}, "last:3": {Last: 3}, "200, 100,200": {Steps: []int64{200, 100}},
	} {
		got, err := ParseCheckpoints(in)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("ParseCheckpoints(%q) = %+v, %v; want %+v", in, got, err, want)
		}
	}
	for _, bad := range []string{"last:0", "last:x", "0", "-5", "1,,2", "every"} {
		if _, err := ParseCheckpoints(bad); !errors.Is(err, ErrUsage) || !strings.Contains(err.Error(), "--checkpoints") {
			t.Errorf("ParseCheckpoints(%q) = %v, want a usage error naming the flag", bad, err)
		}
	}
	opt := DefaultOptions()
	opt.Checkpoints, opt.Load.Checkpoint = CheckpointSpec{All: true}, 200
	if err := opt.Validate(); !errors.Is(err, ErrUsage) {
		t.Errorf("--checkpoint with --checkpoints: %v, want a usage error", err)
	}
	if a, b := opt.Fingerprint(), DefaultOptions().Fingerprint(); a == b {
		t.Errorf("--checkpoints leaves the batch fingerprint %q unchanged", a)
	}
}

func evalCheckpoints(t *testing.T, spec CheckpointSpec, report bool) (string, *RunSummary) {
	t.Helper()
	opt := DefaultOptions()
	opt.Grid, opt.Line, opt.CoreOnly, opt.Checkpoints = 16, 20, !report, spec
	out := t.TempDir()
	sum, err := Evaluate(context.Background(), checkpointRun, out, opt)
	if err != nil {
		t.Fatal(err)
	}
	return out, sum
}

func readCheckpoints(t *testing.T, out string) checkpointsFile {
	t.Helper()
	var f checkpointsFile
	b, err := os.ReadFile(filepath.Join(out, "checkpoints.json"))
	if err == nil {
		err = json.Unmarshal(b, &f)
	}
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// TestCheckpointsMatchPyTorch evaluates every checkpoint of the fixture
// run: six step folders whose policy_grid, q_grid and q_buffer equal
// PyTorch's, and checkpoints.json's numbers computed from those arrays.
func TestCheckpointsMatchPyTorch(t *testing.T) {
	out, sum := evalCheckpoints(t, CheckpointSpec{All: true}, false)
	for _, j := range sum.Jobs {
		if j.Name == "checkpoints" && j.Status != "ok" {
			t.Fatalf("checkpoints job %s: %s", j.Status, j.Reason)
		}
	}
	dirs, _ := filepath.Glob(filepath.Join(out, "checkpoints", "step_*"))
	if len(dirs) != 6 {
		t.Fatalf("%d step folders %v, want 6", len(dirs), dirs)
	}
	f := readCheckpoints(t, out)
	if len(f.Checkpoints) != len(checkpointSteps) {
		t.Fatalf("checkpoints.json lists %d checkpoints, want %d", len(f.Checkpoints), len(checkpointSteps))
	}
	var prevA, prevQ []float32
	for i, step := range checkpointSteps {
		ck := f.Checkpoints[i]
		exp := filepath.Join(testdata, "expected-checkpoints", fmt.Sprintf("step_%d", step))
		dir := filepath.Join(out, "checkpoints", fmt.Sprintf("step_%d", step))
		if ck.Step != step || ck.Final != (step == 600) || ck.Dir != fmt.Sprintf("checkpoints/step_%d", step) {
			t.Errorf("entry %d: %+v, want step %d", i, ck, step)
		}
		arrays := map[string][]float32{}
		for _, name := range []string{"policy_grid.npy", "q_grid.npy", "q_buffer.npy"} {
			want, wshape := fixture.ReadNPY(t, filepath.Join(exp, name))
			got, gshape := fixture.ReadNPY(t, filepath.Join(dir, name))
			if !reflect.DeepEqual(gshape, wshape) {
				t.Errorf("step %d %s: shape %v, PyTorch's %v", step, name, gshape, wshape)
			}
			fixture.CloseArrays(t, fmt.Sprintf("step %d %s", step, name), got, want, fixture.Analyses)
			arrays[name] = want
		}
		a, q := arrays["policy_grid.npy"], arrays["q_grid.npy"]
		closeNum(t, fmt.Sprintf("step %d q_mean", step), float64(ck.QMean), meanOf(q))
		if i == 0 {
			if !math.IsNaN(float64(ck.MeanAbsDPi)) || !math.IsNaN(float64(ck.MeanAbsDQ)) {
				t.Errorf("first checkpoint has changes %v, %v, want null", ck.MeanAbsDPi, ck.MeanAbsDQ)
			}
		} else {
			closeNum(t, fmt.Sprintf("step %d mean |Δπ|", step), float64(ck.MeanAbsDPi), meanAbsDiff(a, prevA))
			closeNum(t, fmt.Sprintf("step %d mean |ΔQ|", step), float64(ck.MeanAbsDQ), meanAbsDiff(q, prevQ))
		}
		if math.IsNaN(float64(ck.ValueBias)) {
			t.Errorf("step %d: no value bias although the run has a buffer", step)
		}
		prevA, prevQ = a, q
	}
	// The final model's bias is the valuebias job's, computed apart.
	var vb ValueBias
	b, err := os.ReadFile(filepath.Join(out, "value_bias.json"))
	if err == nil {
		err = json.Unmarshal(b, &vb)
	}
	if err != nil {
		opt := DefaultOptions()
		opt.Grid, opt.Line = 16, 20
		o2 := t.TempDir()
		if _, err := Evaluate(context.Background(), checkpointRun, o2, opt); err != nil {
			t.Fatal(err)
		}
		b, _ = os.ReadFile(filepath.Join(o2, "value_bias.json"))
		if err := json.Unmarshal(b, &vb); err != nil {
			t.Fatal(err)
		}
	}
	closeNum(t, "final value bias", float64(f.Checkpoints[5].ValueBias), float64(vb.BiasMean))
}

func closeNum(t *testing.T, what string, got, want float64) {
	t.Helper()
	if math.Abs(got-want) > 1e-5*math.Max(1, math.Abs(want)) {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
}

// TestCheckpointsSelection: last:K and a list of steps pick those
// checkpoints (changes then against the previous one picked); an absent
// step fails the job naming the steps there are.
func TestCheckpointsSelection(t *testing.T) {
	out, _ := evalCheckpoints(t, CheckpointSpec{Last: 2}, false)
	f := readCheckpoints(t, out)
	if len(f.Checkpoints) != 2 || f.Checkpoints[0].Step != 500 || f.Checkpoints[1].Step != 600 || !f.Checkpoints[1].Final {
		t.Errorf("last:2 = %+v", f.Checkpoints)
	}
	out, _ = evalCheckpoints(t, CheckpointSpec{Steps: []int64{600, 100}}, false)
	f = readCheckpoints(t, out)
	if len(f.Checkpoints) != 2 || f.Checkpoints[0].Step != 100 || f.Checkpoints[1].Step != 600 {
		t.Errorf("600,100 = %+v", f.Checkpoints)
	}
	if dirs, _ := filepath.Glob(filepath.Join(out, "checkpoints", "step_*")); len(dirs) != 2 {
		t.Errorf("600,100 wrote %v", dirs)
	}
	_, sum := evalCheckpoints(t, CheckpointSpec{Steps: []int64{250}}, false)
	found := false
	for _, j := range sum.Jobs {
		if j.Name == "checkpoints" {
			found = true
			if j.Status != "failed" || !strings.Contains(j.Reason, "no checkpoint at step 250") || !strings.Contains(j.Reason, "100, 200, 300, 400, 500, 600") {
				t.Errorf("step 250: %s %s", j.Status, j.Reason)
			}
		}
	}
	if !found {
		t.Error("no checkpoints job in the summary")
	}
	// A run without checkpoints skips the job, saying why.
	opt := DefaultOptions()
	opt.Grid, opt.Line, opt.CoreOnly, opt.Checkpoints = 16, 20, true, CheckpointSpec{All: true}
	sum, err := Evaluate(context.Background(), filepath.Join(testdata, "layouts", "logs", "sac", "Pendulum-v1_1"), t.TempDir(), opt)
	if err != nil {
		t.Fatal(err)
	}
	for _, j := range sum.Jobs {
		if j.Name == "checkpoints" && (j.Status != "skipped" || !strings.Contains(j.Reason, "no checkpoints")) {
			t.Errorf("run without checkpoints: %s %s", j.Status, j.Reason)
		}
	}
}

// sliderCheck is appended to a copy of the report: after the page's own
// scripts it records which frame the slider shows, moves the slider to
// the first checkpoint as a user would (input event) and records again.
const sliderCheck = `<script>
window.addEventListener('load', function () {
  var s = document.querySelector('#checkpoints [data-slider]');
  function shown() {
    var out = [];
    s.querySelectorAll('.slider-frame').forEach(function (f) { if (!f.hidden) out.push(f.getAttribute('data-label')); });
    return out.join('|') + '/' + s.querySelector('output').textContent;
  }
  document.body.setAttribute('data-before', shown());
  var r = s.querySelector('input[type=range]');
  r.value = 0;
  r.dispatchEvent(new Event('input'));
  document.body.setAttribute('data-after', shown());
});
</script>`

// TestCheckpointSliderWorksInChromium opens the report of `run
// --checkpoints all` alone in headless Chromium: the slider shows the
// final model's maps at first, the first checkpoint's once moved there,
// one frame at a time, with every image decoded.
func TestCheckpointSliderWorksInChromium(t *testing.T) {
	browsertest.Chromium(t)
	out, _ := evalCheckpoints(t, CheckpointSpec{All: true}, true)
	page, err := os.ReadFile(filepath.Join(out, "report.html"))
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(page), `class="slider-frame"`); n != 6 {
		t.Fatalf("%d slider frames, want 6", n)
	}
	for _, step := range checkpointSteps {
		for _, m := range []string{"q", "policy"} {
			if _, err := os.Stat(filepath.Join(out, "plots", fmt.Sprintf("checkpoint_step_%d_%s.png", step, m))); err != nil {
				t.Error(err)
			}
		}
	}
	alone := filepath.Join(t.TempDir(), "copy.html")
	html := strings.Replace(string(page), "</body>", sliderCheck+imageCheck+"</body>", 1)
	if err := os.WriteFile(alone, []byte(html), 0o644); err != nil {
		t.Fatal(err)
	}
	dom := string(browsertest.DumpDOM(t, alone, "--virtual-time-budget=10000"))
	get := func(attr string) string {
		m := regexp.MustCompile(attr + `="([^"]*)"`).FindStringSubmatch(dom)
		if m == nil {
			t.Fatalf("the test script did not run (%s):\n%.500s", attr, dom)
		}
		return m[1]
	}
	if b, want := get("data-before"), "step 600 (final model)/step 600 (final model)"; b != want {
		t.Errorf("slider at first shows %q, want %q", b, want)
	}
	if a, want := get("data-after"), "step 100/step 100"; a != want {
		t.Errorf("slider moved to 0 shows %q, want %q", a, want)
	}
	if tot, ok := get("data-images-total"), get("data-images-loaded"); tot != ok || tot == "0" {
		t.Errorf("%s of %s images loaded", ok, tot)
	}
	for _, fig := range []string{"checkpoints_change", "checkpoints_q", "checkpoints_reward"} {
		if _, err := os.Stat(filepath.Join(out, "plots", fig+".png")); err != nil {
			t.Error(err)
		}
	}
}
