#!/usr/bin/python3
"""PyTorch + numpy reference for the rollout benchmark (issue #22).

    /usr/bin/python3 bench/reference/rollout_torch.py --grid 512 --steps 1000 \
        --threads 2 --run testdata/runs/2026-02-14_13-38-10_pendulum-v1 [--chunk 0] [--device cuda]

The same work as jobs' BenchmarkRolloutGrid: Pendulum-v1 from every state of
a grid x grid plane (theta in [-pi, pi], thetadot in [-8, 8]), stepped
together for --steps steps, the run's actor (a 256x256 TD3 actor in the
fixture) evaluated once per step for the whole batch (or per --chunk
states), the environment stepped in numpy (float64 state, float32
observations, as the returns job does), the discounted return accumulated.
It times the rollout after one untimed warm-up step and prints one JSON
object: {"torch_version", "threads", "grid", "steps", "seconds",
"cpu_seconds", "state_steps_per_s", "state_steps_per_cpu_s"} (CPU seconds
are what a shared machine does not inflate).

With --device cuda everything stays on the GPU, as rleval's device rollout
keeps it (graph.Roller): the actor there, the environment stepped in torch
float64 on the GPU (the same equations), synchronised before the clock
stops; tools/gpu-check.sh compares rleval's worker with it.
"""
import argparse
import json
import os
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import runload  # noqa: E402


def step(s, a):
    th, thd = s[:, 0], s[:, 1]
    u = np.clip(a, -2.0, 2.0).astype(np.float64)
    an = ((th + np.pi) % (2 * np.pi)) - np.pi
    r = -(an ** 2 + 0.1 * thd ** 2 + 0.001 * u ** 2)
    thd = np.clip(thd + (15.0 * np.sin(th) + 3.0 * u) * 0.05, -8.0, 8.0)
    s[:, 0] = th + thd * 0.05
    s[:, 1] = thd
    return r


def obs_of(s):
    return torch.from_numpy(np.stack([np.cos(s[:, 0]), np.sin(s[:, 0]), s[:, 1]], 1).astype(np.float32))


def step_t(s, a):
    """step on torch float64 tensors (on the GPU)."""
    th, thd = s[:, 0], s[:, 1]
    u = torch.clamp(a, -2.0, 2.0).double()
    an = torch.remainder(th + np.pi, 2 * np.pi) - np.pi
    r = -(an ** 2 + 0.1 * thd ** 2 + 0.001 * u ** 2)
    thd = torch.clamp(thd + (15.0 * torch.sin(th) + 3.0 * u) * 0.05, -8.0, 8.0)
    return torch.stack([th + thd * 0.05, thd], 1), r


def rollout_device(actor, s, steps, gamma):
    """rollout with the states, actor and returns on the GPU."""
    ret = torch.zeros(len(s), dtype=torch.float64, device=s.device)
    disc = 1.0
    with torch.no_grad():
        for _ in range(steps):
            obs = torch.stack([torch.cos(s[:, 0]), torch.sin(s[:, 0]), s[:, 1]], 1).float()
            s, r = step_t(s, actor(obs)[:, 0])
            ret += disc * r
            disc *= gamma
    torch.cuda.synchronize()
    return ret.cpu().numpy()


def rollout(actor, s, steps, gamma, chunk):
    n = len(s)
    ret = np.zeros(n)
    disc = 1.0
    chunk = chunk or n
    with torch.no_grad():
        for _ in range(steps):
            for lo in range(0, n, chunk):
                part = s[lo:lo + chunk]
                a = actor(obs_of(part)).numpy()[:, 0]
                ret[lo:lo + chunk] += disc * step(part, a)
            disc *= gamma
    return ret


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--grid", type=int, default=512)
    ap.add_argument("--steps", type=int, default=1000)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--chunk", type=int, default=0, help="states per actor call (0: the whole batch)")
    ap.add_argument("--run", default="", help="run directory whose actor to use (default: a random 256x256 actor)")
    ap.add_argument("--gamma", type=float, default=0.99)
    ap.add_argument("--device", default="cpu", help="cpu, or cuda: everything on the GPU")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    if args.run:
        runload.register_fake_modules()
        actor = runload.load_actor(runload.find_model(args.run, "actor"))
    else:
        actor = runload.random_nets(3, 1, [256, 256])[0]
    th, thd = np.meshgrid(np.linspace(-np.pi, np.pi, args.grid), np.linspace(-8, 8, args.grid))
    s = np.stack([th.flatten(), thd.flatten()], 1)
    if args.device == "cuda":
        actor.mlp.layers = [(w.cuda(), b.cuda()) for w, b in actor.mlp.layers]
        actor.low, actor.high = actor.low.cuda(), actor.high.cuda()
        s = torch.from_numpy(s).cuda()
        run = lambda st, steps: rollout_device(actor, st, steps, args.gamma)  # noqa: E731
    else:
        run = lambda st, steps: rollout(actor, st, steps, args.gamma, args.chunk)  # noqa: E731
    run(s.clone() if args.device == "cuda" else s.copy(), 1)  # warm-up
    t0, c0 = time.perf_counter(), time.process_time()
    ret = run(s, args.steps)
    dt, cpu = time.perf_counter() - t0, time.process_time() - c0
    n = len(s)
    print(json.dumps({"torch_version": torch.__version__, "device": args.device, "threads": args.threads, "grid": args.grid, "steps": args.steps,
                      "chunk": args.chunk, "seconds": dt, "cpu_seconds": cpu, "state_steps_per_s": n * args.steps / dt,
                      "state_steps_per_cpu_s": n * args.steps / cpu,
                      "mean_return": float(ret.mean())}))


if __name__ == "__main__":
    main()
