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
    args = ap.parse_args()
    sys.exit(parity(args) if args.cmd == "parity" else torchbench(args))


if __name__ == "__main__":
    main()
