package main

import (
	"context"
	"crypto/rand"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/rleval/rleval/batch"
)

// slurmTools are the programs the Slurm integration test needs: Debian's
// slurm-wlm (slurmctld, slurmd, sbatch, squeue, sinfo) and munge.
var slurmTools = []string{"slurmctld", "slurmd", "sbatch", "squeue", "sinfo", "munged"}

// docBlocks returns the ```bash blocks of docs/slurm.md in order.
func docBlocks(t *testing.T) []string {
	t.Helper()
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "slurm.md"))
	if err != nil {
		t.Fatal(err)
	}
	var blocks []string
	for _, m := range regexp.MustCompile("(?s)```bash\n(.*?)```").FindAllStringSubmatch(string(doc), -1) {
		blocks = append(blocks, m[1])
	}
	if len(blocks) < 2 {
		t.Fatalf("docs/slurm.md has %d bash blocks, want the array script and its submission", len(blocks))
	}
	return blocks
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// TestSlurmArrayScriptOfTheDocs runs docs/slurm.md's array script and its
// merge job on a real single-node Slurm that the test starts in a
// temporary folder (munged, slurmctld, slurmd as root; the node has 2
// CPUs): three array tasks evaluate the fixture runs, the merge combines
// their shards, and the summary must hold every run. The script's
// resources are scaled to the test node (array 0-2, 1 CPU, 300 MB); the
// rest runs as documented.
func TestSlurmArrayScriptOfTheDocs(t *testing.T) {
	for _, tool := range slurmTools {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("no %s: install Debian's slurm-wlm and munge to run this test", tool)
		}
	}
	if os.Geteuid() != 0 {
		t.Skip("the test's Slurm runs as root (SlurmUser=root)")
	}
	blocks := docBlocks(t)
	script := blocks[0]
	for old, repl := range map[string]string{"--array=0-15": "--array=0-2", "--cpus-per-task=4": "--cpus-per-task=1", "--mem=16G": "--mem=300M", "--time=02:00:00": "--time=00:20:00"} {
		if !strings.Contains(script, old) {
			t.Fatalf("the documented array script no longer says %s; update this test", old)
		}
		script = strings.Replace(script, old, repl, 1)
	}
	submit := blocks[1]
	if !strings.Contains(submit, "rleval merge results/") {
		t.Fatalf("the documented submission has no merge job:\n%s", submit)
	}

	dir, err := os.MkdirTemp("", "rleval-slurm-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	bin := filepath.Join(dir, "bin")
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	if out, err := exec.CommandContext(ctx, "go", "build", "-o", filepath.Join(bin, "rleval"), ".").CombinedOutput(); err != nil {
		t.Fatalf("build rleval: %v\n%s", err, out)
	}

	// munge: a fresh key and socket of our own.
	key := make([]byte, 1024)
	rand.Read(key)
	for _, d := range []string{"munge", "state", "spool", "work/experiments"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "munge", "munge.key"), key, 0o400); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(dir, "munge", "munge.sock")
	var daemons []*exec.Cmd
	start := func(name string, args ...string) {
		cmd := exec.Command(name, args...)
		logf, err := os.Create(filepath.Join(dir, name+".out"))
		if err != nil {
			t.Fatal(err)
		}
		cmd.Stdout, cmd.Stderr = logf, logf
		cmd.Env = append(os.Environ(), "SLURM_CONF="+filepath.Join(dir, "slurm.conf"))
		if err := cmd.Start(); err != nil {
			t.Fatalf("start %s: %v", name, err)
		}
		daemons = append(daemons, cmd)
	}
	defer func() {
		for i := len(daemons) - 1; i >= 0; i-- {
			daemons[i].Process.Kill()
			daemons[i].Wait()
		}
		if t.Failed() {
			for _, name := range []string{"munged.out", "slurmctld.out", "slurmd.out", "slurmctld.log", "slurmd.log"} {
				if b, err := os.ReadFile(filepath.Join(dir, name)); err == nil {
					t.Logf("%s:\n%s", name, tail(string(b), 3000))
				}
			}
		}
	}()
	start("munged", "--foreground", "--force", "--socket="+sock, "--key-file="+filepath.Join(dir, "munge", "munge.key"),
		"--pid-file="+filepath.Join(dir, "munge", "munged.pid"), "--seed-file="+filepath.Join(dir, "munge", "seed"),
		"--log-file="+filepath.Join(dir, "munge", "munged.log"))

	host, err := os.Hostname()
	if err != nil {
		t.Fatal(err)
	}
	host = strings.SplitN(host, ".", 2)[0]
	conf := fmt.Sprintf(`ClusterName=rlevaltest
SlurmctldHost=%[1]s(127.0.0.1)
SlurmUser=root
SlurmdUser=root
SlurmctldPort=%[2]d
SlurmdPort=%[3]d
AuthType=auth/munge
AuthInfo=socket=%[4]s
CryptoType=crypto/munge
StateSaveLocation=%[5]s/state
SlurmdSpoolDir=%[5]s/spool
SlurmctldPidFile=%[5]s/slurmctld.pid
SlurmdPidFile=%[5]s/slurmd.pid
SlurmctldLogFile=%[5]s/slurmctld.log
SlurmdLogFile=%[5]s/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SwitchType=switch/none
MpiDefault=none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
ReturnToService=2
SlurmctldTimeout=30
SlurmdTimeout=30
NodeName=%[1]s NodeAddr=127.0.0.1 CPUs=2 RealMemory=1000 State=UNKNOWN
PartitionName=test Nodes=ALL Default=YES MaxTime=INFINITE State=UP
`, host, freePort(t), freePort(t), sock, dir)
	if err := os.WriteFile(filepath.Join(dir, "slurm.conf"), []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	env := append(os.Environ(), "SLURM_CONF="+filepath.Join(dir, "slurm.conf"), "PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	run := func(name string, args ...string) (string, error) {
		cmd := exec.CommandContext(ctx, name, args...)
		cmd.Env, cmd.Dir = env, filepath.Join(dir, "work")
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	waitFor := func(what string, ok func() bool) {
		for !ok() {
			if ctx.Err() != nil {
				t.Fatalf("timed out waiting for %s", what)
			}
			time.Sleep(500 * time.Millisecond)
		}
	}
	waitFor("munged's socket", func() bool { _, err := os.Stat(sock); return err == nil })
	start("slurmctld", "-D", "-i", "-f", filepath.Join(dir, "slurm.conf"))
	start("slurmd", "-D", "-N", host, "-f", filepath.Join(dir, "slurm.conf"))
	waitFor("the node to be idle", func() bool {
		out, err := run("sinfo", "-h", "-o", "%T")
		return err == nil && strings.Contains(out, "idle")
	})

	// The experiments: the fixture runs.
	runs, err := os.ReadDir(filepath.Join("..", "..", "testdata", "runs"))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range runs {
		if err := os.CopyFS(filepath.Join(dir, "work", "experiments", r.Name()), os.DirFS(filepath.Join("..", "..", "testdata", "runs", r.Name()))); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "work", "rleval-array.sbatch"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := run("bash", "-euc", submit); err != nil {
		t.Fatalf("submit: %v\n%s", err, out)
	}
	waitFor("the jobs to finish", func() bool {
		out, err := run("squeue", "-h")
		return err == nil && strings.TrimSpace(out) == ""
	})
	results := filepath.Join(dir, "work", "results")
	shards, _ := filepath.Glob(filepath.Join(results, "summary-shard-*-of-3.json"))
	if len(shards) != 3 {
		t.Errorf("%d shard summaries, want 3 (one per array task)", len(shards))
	}
	res, err := batch.ReadSummary(filepath.Join(results, "summary.json"))
	if err != nil {
		logs, _ := filepath.Glob(filepath.Join(dir, "work", "logs", "*"))
		for _, l := range logs {
			b, _ := os.ReadFile(l)
			t.Logf("%s:\n%s", filepath.Base(l), tail(string(b), 2000))
		}
		t.Fatalf("the merge left no summary: %v", err)
	}
	if len(res.Runs) != len(runs) || res.Failed != 0 {
		t.Errorf("merged summary: %d runs (%d failed), want %d ok", len(res.Runs), res.Failed, len(runs))
	}
	t.Logf("3 array tasks and the merge: %d runs, %d ok, %d partial", len(res.Runs), res.OK, res.Partial)
	for _, f := range []string{batch.IndexFileName, batch.GroupsJSONName} {
		if _, err := os.Stat(filepath.Join(results, f)); err != nil {
			t.Error(err)
		}
	}
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}
