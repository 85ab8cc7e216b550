package bench

import (
	"bytes"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestWriteFilesWritesDecodablePlotJSONAndCSV(t *testing.T) {
	cfg := tinyConfig()
	cfg.CeilingTime = -1
	rep, err := Run(cfg)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "out")
	paths, err := rep.WriteFiles(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) != 3 {
		t.Fatalf("wrote %v", paths)
	}
	f, err := os.Open(filepath.Join(dir, PlotFile))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("plot is not a PNG: %v", err)
	}
	if b := img.Bounds(); b.Dx() < 300 || b.Dy() < 200 {
		t.Errorf("plot is %v", b)
	}
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if strings.Contains(e.Name(), ".tmp-") {
			t.Errorf("temporary file %s left behind", e.Name())
		}
	}
	for _, name := range []string{JSONFile, CSVFile} {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil || len(data) == 0 {
			t.Errorf("%s: %v, %d bytes", name, err, len(data))
		}
	}
}

func TestPlotHandlesOneBatchSizeAndSVG(t *testing.T) {
	cfg := tinyConfig()
	cfg.Devices = []string{"cpu"}
	cfg.Batches = []int{8}
	cfg.CeilingTime = -1
	rep, err := Run(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := rep.WritePlot(&b, "svg"); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "<svg") || !strings.Contains(b.String(), "cpu q_full") {
		t.Errorf("SVG lacks the svg element or the legend")
	}
}

func TestSavePlotRejectsUnknownExtension(t *testing.T) {
	rep := &Report{Results: []Result{{Device: "cpu", Workload: WorkloadActor, Batch: 1, RowsPerS: 1}}}
	if err := rep.SavePlot(filepath.Join(t.TempDir(), "bench.gif")); err == nil {
		t.Error("saved a .gif")
	}
	if err := (&Report{}).SavePlot(filepath.Join(t.TempDir(), "bench.png")); err == nil {
		t.Error("plotted an empty report")
	}
}

func TestCPUModelReadsCPUInfo(t *testing.T) {
	tests := []struct{ name, info, want string }{
		{"x86", "processor\t: 0\nvendor_id\t: AuthenticAMD\nmodel name\t: AMD EPYC 7B13\n", "AMD EPYC 7B13"},
		{"arm", "processor\t: 0\nBogoMIPS\t: 50.00\nModel\t: Raspberry Pi 4\n", "Raspberry Pi 4"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "cpuinfo")
			os.WriteFile(p, []byte(tt.info), 0o644)
			if got := cpuModel(p); got != tt.want {
				t.Errorf("cpuModel = %q, want %q", got, tt.want)
			}
		})
	}
	if got := cpuModel(filepath.Join(t.TempDir(), "missing")); got == "" {
		t.Error("no fallback for a missing cpuinfo")
	}
}
