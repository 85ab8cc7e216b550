#!/usr/bin/python3
"""Helpers of tools/gpu-check.sh, run on the GPU machine (python3 + torch).

    gpu_check.py parity --runs testdata/runs --expected testdata/expected --rleval OUT/eval
        compares, for every fixture run, rleval's arrays on cuda with rleval's on
        cpu, with PyTorch's CPU truth (testdata/expected) and with PyTorch on
        CUDA (the run's networks evaluated here), under ANALYSES.md's tolerance
        |d| <= 1e-5 * max(1, max|want|) + 1e-4 * |want|. Prints one line per
        comparison and exits 1 when any fails.
    gpu_check.py torchbench --batch 1,64,1024,16384,262144 --hidden 256,256
        rows/s of PyTorch on CUDA for the bench's workloads (actor; critic;
        q_full = actor + 4 critic passes) on the bench's synthetic networks.
    gpu_check.py rollout --rleval OUT/rollout
        compares the returns job's value_grid.npy and episode_returns.npy of
        rleval rollout on cuda (the environment stepped on the GPU), on cuda
        with --host-steps and on cpu (OUT/rollout/{cuda,cuda-host,cpu}/<run>):
        1e-4 relative (floor 1e-2) on >= 99 % of the states, as the returns
        job's reference test allows (the GPU rounds the actor's actions
        otherwise; the pendulum is chaotic near its separatrix). Exits 1 when
        any pair fails.
    gpu_check.py rollbench --out OUT --grid 512
        the issue's rollout benchmark from gpu-check.sh's step timings: the
        marginal state-steps/s of rleval on cuda (1000 vs 100 steps) and on
        cpu (100 vs 20 steps), their ratio against the goal of 20x, and
        PyTorch's rates (rollout_torch.py on cpu and cuda) beside them.
"""
import argparse
import json
import os
import sys
import time

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "bench", "reference"))
import runload  # noqa: E402
from fixturelib import grid_obs  # noqa: E402 (the fixtures' Pendulum grid)


def close(got, want):
    """ANALYSES.md's tolerance; returns (ok, max |d|, values compared)."""
    got, want = np.asarray(got, np.float64).ravel(), np.asarray(want, np.float64).ravel()
    if got.shape != want.shape:
        return False, float("inf"), 0
    m = max(1.0, float(np.max(np.abs(want)))) if want.size else 1.0
    d = np.abs(got - want)
    ok = bool(np.all(d <= 1e-5 * m + 1e-4 * np.abs(want)))
    return ok, float(d.max()) if d.size else 0.0, int(want.size)


def to_cuda(net):
    mlp = net.mlp
    mlp.layers = [(w.cuda(), b.cuda()) for w, b in mlp.layers]
    if hasattr(net, "low"):
        net.low, net.high = net.low.cuda(), net.high.cuda()
    return net


def torch_cuda_arrays(run_dir, n):
    """policy_grid, q_grid, q_buffer, q_policy of the run with PyTorch on CUDA."""
    act_dim = 1
    actor, c1, c2 = (to_cuda(x) for x in runload.load_run_nets(run_dir, act_dim))
    out = {}
    with torch.no_grad():
        og = grid_obs(n).cuda()
        ag = actor(og)
        out["policy_grid"] = ag.cpu().numpy().reshape(n, n)
        out["q_grid"] = torch.min(c1(og, ag), c2(og, ag)).cpu().numpy().reshape(n, n)
        buf = runload.load_buffer(run_dir)
        if buf is not None:
            bo, ba = buf[0].cuda(), buf[1].cuda()
            out["q_buffer"] = torch.min(c1(bo, ba), c2(bo, ba)).cpu().numpy().ravel()
            pa = actor(bo)
            out["q_policy"] = torch.min(c1(bo, pa), c2(bo, pa)).cpu().numpy().ravel()
    return out


def parity(args):
    bad = 0
    rows = []
    for run in sorted(os.listdir(args.runs)):
        exp_dir = os.path.join(args.expected, run)
        cuda_dir = os.path.join(args.rleval, "cuda", run)
        cpu_dir = os.path.join(args.rleval, "cpu", run)
        if not os.path.isdir(cuda_dir):
            print(f"{run}: FAIL: no rleval cuda output in {cuda_dir}")
            bad += 1
            continue
        names = sorted(f[:-4] for f in os.listdir(cuda_dir) if f.endswith(".npy"))
        if not names:
            print(f"{run}: FAIL: rleval cuda wrote no arrays")
            bad += 1
            continue
        try:
            n = np.load(os.path.join(exp_dir, "policy_grid.npy")).shape[0]
            tc = torch_cuda_arrays(os.path.join(args.runs, run), n)
        except Exception as e:  # a layout runload does not read: say so, go on
            tc = {}
            print(f"{run}: note: PyTorch CUDA not evaluated: {type(e).__name__}: {e}")
        for name in names:
            got = np.load(os.path.join(cuda_dir, name + ".npy"))
            for ref, path_or_arr in (("rleval cpu", os.path.join(cpu_dir, name + ".npy")),
                                     ("pytorch cpu", os.path.join(exp_dir, name + ".npy")),
                                     ("pytorch cuda", tc.get(name))):
                if isinstance(path_or_arr, str):
                    if not os.path.exists(path_or_arr):
                        continue
                    want = np.load(path_or_arr)
                elif path_or_arr is None:
                    continue
                else:
                    want = path_or_arr
                ok, d, cnt = close(got, want)
                rows.append({"run": run, "array": name, "against": ref, "ok": ok, "max_abs_diff": d, "values": cnt})
                print(f"{run}: {name}: cuda vs {ref}: {'ok' if ok else 'FAIL'} max|d| {d:.3g} over {cnt} values")
                bad += 0 if ok else 1
    with open(os.path.join(args.rleval, "parity.json"), "w") as f:
        json.dump(rows, f, indent=1)
    print(f"parity: {len(rows) - bad} ok, {bad} failed")
    return 1 if bad or not rows else 0


def torchbench(args):
    batches = [int(b) for b in args.batch.split(",") if b]
    hidden = [int(h) for h in args.hidden.split(",") if h]
    actor, c1, c2 = (to_cuda(x) for x in runload.random_nets(3, 1, hidden, 0))
    obs, act = runload.rows_of(None, None, max(batches), 3, 1, 0)
    obs, act = obs.cuda(), act.cuda()
    work = {
        "actor": lambda o, a: actor(o),
        "critic": lambda o, a: c1(o, a),
        "q_full": lambda o, a: (torch.min(c1(o, a), c2(o, a)), torch.min(c1(o, actor(o)), c2(o, actor(o)))),
    }
    res = []
    with torch.no_grad():
        for name, fn in work.items():
            for b in batches:
                o, a = obs[:b].contiguous(), act[:b].contiguous()
                for _ in range(3):
                    fn(o, a)
                torch.cuda.synchronize()
                reps, t0 = 0, time.perf_counter()
                while True:
                    fn(o, a)
                    reps += 1
                    if reps % 8 == 0:
                        torch.cuda.synchronize()
                        if time.perf_counter() - t0 > args.min_time:
                            break
                el = time.perf_counter() - t0
                res.append({"workload": name, "batch": b, "rows_per_s": reps * b / el})
                print(f"torch cuda {name:7s} batch {b:7d}: {reps * b / el:.4g} rows/s")
    print(json.dumps({"torch_version": torch.__version__, "device": torch.cuda.get_device_name(0), "results": res}))
    return 0


def rollout_parity(args):
    names = ("cuda", "cuda-host", "cpu")
    arrays = {}
    for name in names:
        d = os.path.join(args.rleval, name)
        runs = sorted(os.listdir(d)) if os.path.isdir(d) else []
        for run in runs:
            for arr in ("value_grid", "episode_returns"):
                p = os.path.join(d, run, arr + ".npy")
                if os.path.exists(p):
                    arrays[(name, run, arr)] = np.load(p).astype(np.float64).ravel()
    bad, rows = 0, 0
    for a, b in (("cuda", "cpu"), ("cuda", "cuda-host"), ("cuda-host", "cpu")):
        for (name, run, arr), got in sorted(arrays.items()):
            if name != a or (b, run, arr) not in arrays:
                continue
            want = arrays[(b, run, arr)]
            ok = np.isfinite(want)
            rel = np.abs(got[ok] - want[ok]) / np.maximum(np.abs(want[ok]), 1e-2)
            share = float(np.mean(rel <= 1e-4)) if rel.size else 0.0
            good = share >= 0.99 and got.shape == want.shape and bool(np.all(np.isfinite(got) == np.isfinite(want)))
            rows += 1
            bad += 0 if good else 1
            print(f"rollout {run}: {arr}: {a} vs {b}: {'ok' if good else 'FAIL'}: {100 * share:.2f}% of {rel.size} states "
                  f"within 1e-4 relative, max {float(rel.max()) if rel.size else 0:.3g}")
    if rows == 0:
        print(f"rollout: FAIL: no arrays to compare under {args.rleval}")
        return 1
    return 1 if bad else 0


def rollbench(args):
    def wall(name):
        try:
            with open(os.path.join(args.out, name + ".time")) as f:
                rc, w, _ = f.read().split()
            return float(w) if rc == "0" else None
        except OSError:
            return None

    def torch_rate(name):
        try:
            with open(os.path.join(args.out, name + ".out")) as f:
                return json.loads(f.read().strip().splitlines()[-1])["state_steps_per_s"]
        except (OSError, ValueError, KeyError, IndexError):
            return None

    states = args.grid ** 2
    rates = {}
    for dev, lo, hi in (("cuda", 100, 1000), ("cpu", 20, 100)):
        a, b = wall(f"rollout-{dev}-{lo}"), wall(f"rollout-{dev}-{hi}")
        if a is None or b is None or b <= a:
            print(f"rollbench: rleval {dev}: no marginal rate (walls {a}, {b})")
            continue
        rates[dev] = states * (hi - lo) / (b - a)
        print(f"rollbench: rleval {dev}: {rates[dev]:.4g} state-steps/s ({hi} vs {lo} steps: {b:.2f}s vs {a:.2f}s wall)")
    if "cuda" in rates and "cpu" in rates:
        x = rates["cuda"] / rates["cpu"]
        print(f"rollbench: rleval cuda / cpu: {x:.1f}x ({'meets' if x >= 20 else 'MISSES'} the goal of 20x)")
    for name in ("rollout-torch-cpu", "rollout-torch-cuda"):
        r = torch_rate(name)
        if r is not None:
            line = f"rollbench: {name[8:]}: {r:.4g} state-steps/s"
            if "cuda" in rates:
                line += f" (rleval cuda {rates['cuda'] / r:.2f}x of it)"
            print(line)
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("parity")
    p.add_argument("--runs", default="testdata/runs")
    p.add_argument("--expected", default="testdata/expected")
    p.add_argument("--rleval", required=True, help="folder holding cpu/<run>/ and cuda/<run>/ from rleval eval")
    b = sub.add_parser("torchbench")
    b.add_argument("--batch", default="1,64,1024,16384,262144")
    b.add_argument("--hidden", default="256,256")
    b.add_argument("--min-time", type=float, default=0.3)
    r = sub.add_parser("rollout")
    r.add_argument("--rleval", required=True, help="folder holding cuda/, cuda-host/ and cpu/ from rleval rollout")
    rb = sub.add_parser("rollbench")
    rb.add_argument("--out", required=True, help="gpu-check.sh's output folder (its <step>.time and .out files)")
    rb.add_argument("--grid", type=int, default=512)
    args = ap.parse_args()
    cmds = {"parity": parity, "torchbench": torchbench, "rollout": rollout_parity, "rollbench": rollbench}
    sys.exit(cmds[args.cmd](args))


if __name__ == "__main__":
    main()
