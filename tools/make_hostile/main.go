// Command make_hostile writes the hostile and careless inputs of issue #21
// (cases 1, 2, 3 and 5) as run folders, for trying rleval's command line
// on them by hand; the tests build the same inputs with internal/hostile
// in their temporary directories.
//
//	go run ./tools/make_hostile OUT
//	rleval batch OUT/runs --out /tmp/o; rleval inspect OUT/runs/<name>
//
// OUT/runs holds one folder per case, copied from testdata/ and broken one
// way each; nothing is committed. The 10-million-line monitor file (about
// 250 MB) is written only with -big.
package main

import (
	"flag"
	"fmt"
	"log"
	"math"
	"os"
	"path/filepath"

	"github.com/rleval/rleval/internal/hostile"
)

func main() {
	log.SetFlags(0)
	log.SetPrefix("make_hostile: ")
	big := flag.Bool("big", false, "also write a run whose 0.monitor.csv has 10 million episodes")
	testdata := flag.String("testdata", "testdata", "the repository's testdata folder")
	flag.Parse()
	if flag.NArg() != 1 {
		log.Fatal("usage: go run ./tools/make_hostile [-big] OUT")
	}
	out := filepath.Join(flag.Arg(0), "runs")
	gen2 := filepath.Join(*testdata, "runs", "2026-06-20_09-15-00_pendulum-gen2")
	sac := filepath.Join(*testdata, "layouts", "logs", "sac", "Pendulum-v1_2")
	cases := []struct {
		name, from string
		edit       func(dir string) error
	}{
		{"2026-06-20_09-15-00_fifo-actor", gen2, func(d string) error { return hostile.FIFO(filepath.Join(d, "agent_td3", "actor.pt")) }},
		{"2026-06-20_09-15-00_fifo-buffer", gen2, func(d string) error { return hostile.FIFO(filepath.Join(d, "data", "replay_buffer.pth")) }},
		{"2026-06-20_09-15-00_fifo-config", gen2, func(d string) error { return hostile.FIFO(filepath.Join(d, "config.yaml")) }},
		{"2026-06-20_09-15-00_log-dev-zero", gen2, func(d string) error { return hostile.Link(filepath.Join(d, "train.jsonl"), "/dev/zero") }},
		{"2026-06-20_09-15-00_sourceless-line", gen2, func(d string) error {
			return hostile.Append(filepath.Join(d, "train.jsonl"), hostile.SourcelessLine)
		}},
		{"2026-06-20_09-15-00_sourceless-log", gen2, func(d string) error {
			return hostile.WriteLines(filepath.Join(d, "train.jsonl"), 100000, hostile.SourcelessLine)
		}},
		{"2026-06-20_09-15-00_nan-actor", gen2, func(d string) error {
			for _, role := range []string{"actor", "actor_target"} {
				if err := hostile.NaNWeights(filepath.Join(d, "agent_td3", role+".pt")); err != nil {
					return err
				}
			}
			return nil
		}},
		{"sb3-vecnormalize-nan", sac, func(d string) error {
			return hostile.PatchFloat64s(filepath.Join(d, "Pendulum-v1", "vecnormalize.pkl"), []float64{0.4, 0.6, 9}, []float64{-1, 0, math.NaN()})
		}},
		{"sb3-monitor-bad-episodes", sac, func(d string) error {
			rows := []hostile.MonitorRow{{Reward: -100, Length: 200}, {Reward: math.NaN(), Length: 200}, {Reward: -90, Length: -5},
				{Reward: math.Inf(1), Length: 200}, {Reward: -70, Length: 200}}
			return hostile.WriteMonitor(filepath.Join(d, "0.monitor.csv"), len(rows), func(i int) hostile.MonitorRow { return rows[i] })
		}},
		{"sb3-monitor-500mb", sac, func(d string) error { return hostile.Grow(filepath.Join(d, "0.monitor.csv"), 500<<20) }},
		{"sb3-unsafe-pytorch-variables", sac, func(d string) error {
			return hostile.ReplaceZipMember(filepath.Join(d, "Pendulum-v1.zip"), "pytorch_variables.pth", hostile.UnsafePickle)
		}},
	}
	if *big {
		cases = append(cases, struct {
			name, from string
			edit       func(dir string) error
		}{"sb3-monitor-10m-episodes", sac, func(d string) error {
			return hostile.WriteMonitor(filepath.Join(d, "0.monitor.csv"), 10_000_000, func(i int) hostile.MonitorRow {
				return hostile.MonitorRow{Reward: -float64(i % 1000), Length: 1}
			})
		}})
	}
	for _, c := range cases {
		dir := filepath.Join(out, c.name)
		if err := os.RemoveAll(dir); err != nil {
			log.Fatal(err)
		}
		if err := hostile.Copy(c.from, dir); err != nil {
			log.Fatal(err)
		}
		if err := c.edit(dir); err != nil {
			log.Fatalf("%s: %v", c.name, err)
		}
		fmt.Println(dir)
	}
}
