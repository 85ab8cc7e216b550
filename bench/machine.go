package bench

import (
	"bufio"
	"os"
	"runtime"
	"strings"
)

// Machine describes the host a benchmark ran on.
type Machine struct {
	// CPU is the processor model from /proc/cpuinfo, or GOARCH when unknown.
	CPU string `json:"cpu"`
	// Cores is the number of logical CPUs.
	Cores int `json:"cores"`
	// GOMAXPROCS is the Go scheduler's thread limit during the run.
	GOMAXPROCS int `json:"gomaxprocs"`
	// OS, Arch and GoVersion identify the platform and toolchain.
	OS        string `json:"os"`
	Arch      string `json:"arch"`
	GoVersion string `json:"go_version"`
}

// ThisMachine describes the running host.
func ThisMachine() Machine {
	return Machine{
		CPU:        cpuModel("/proc/cpuinfo"),
		Cores:      runtime.NumCPU(),
		GOMAXPROCS: runtime.GOMAXPROCS(0),
		OS:         runtime.GOOS,
		Arch:       runtime.GOARCH,
		GoVersion:  runtime.Version(),
	}
}

// cpuModel returns the first "model name" (x86) or "Model"/"Processor"
// (ARM) entry of a cpuinfo file, or GOARCH.
func cpuModel(path string) string {
	f, err := os.Open(path)
	if err != nil {
		return runtime.GOARCH
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	fallback := ""
	for sc.Scan() {
		key, val, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		key, val = strings.TrimSpace(key), strings.TrimSpace(val)
		switch key {
		case "model name":
			if val != "" {
				return val
			}
		case "Model", "Processor", "cpu model":
			if fallback == "" {
				fallback = val
			}
		}
	}
	if fallback != "" {
		return fallback
	}
	return runtime.GOARCH
}
