#!/usr/bin/python3
"""Write a benchmark run directory: the demo fixture's config, logs and models
with a large replay buffer (default 1,000,000 rows, ~36 MB) of plausible
Pendulum-v1 transitions. Not committed; for `rleval bench` and the PyTorch
reference scripts.

    /usr/bin/python3 tools/make_big_run.py --rows 1000000 --out /tmp/bigrun [--from testdata/runs/<demo>]

Transitions come from batched Pendulum-v1 episodes (200 steps each), half
driven by the demo actor plus Gaussian noise, half by uniform random torque,
stored episode after episode; the buffer is full (size = capacity = rows,
index 0).
"""
import argparse
import io
import os
import shutil
import sys

import numpy as np
import torch
import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "bench", "reference"))
import runload  # noqa: E402

DEMO = os.path.join(HERE, "..", "testdata", "runs", "2026-02-14_13-38-10_pendulum-v1")


def simulate(actor, rows, seed):
    rng = np.random.default_rng(seed)
    ep_len = 200
    n_env = -(-rows // ep_len)
    th = rng.uniform(-np.pi, np.pi, n_env)
    thd = rng.uniform(-1, 1, n_env)
    use_policy = np.arange(n_env) % 2 == 0
    obs = np.zeros((ep_len, n_env, 3), np.float32)
    act = np.zeros((ep_len, n_env, 1), np.float32)
    rew = np.zeros((ep_len, n_env, 1), np.float32)
    nobs = np.zeros((ep_len, n_env, 3), np.float32)
    g, dt, max_speed = 10.0, 0.05, 8.0
    for t in range(ep_len):
        o = np.stack([np.cos(th), np.sin(th), thd], 1).astype(np.float32)
        with torch.no_grad():
            pa = actor(torch.from_numpy(o)).numpy()[:, 0]
        u = np.where(use_policy, np.clip(pa + rng.normal(0, 0.2, n_env), -2, 2), rng.uniform(-2, 2, n_env))
        th_norm = ((th + np.pi) % (2 * np.pi)) - np.pi
        cost = th_norm ** 2 + 0.1 * thd ** 2 + 0.001 * u ** 2
        thd = np.clip(thd + (3 * g / 2 * np.sin(th) + 3.0 * u) * dt, -max_speed, max_speed)
        th = th + thd * dt
        obs[t], act[t, :, 0], rew[t, :, 0] = o, u, -cost
        nobs[t] = np.stack([np.cos(th), np.sin(th), thd], 1)
    # episode after episode: (env, t) order
    def flat(x):
        return np.ascontiguousarray(x.transpose(1, 0, 2).reshape(-1, x.shape[2])[:rows])
    dones = np.zeros((ep_len, n_env, 1), np.bool_)
    dones[-1] = True
    return flat(obs), flat(act), flat(rew), flat(nobs), flat(dones)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--out", required=True)
    ap.add_argument("--from", dest="src", default=DEMO)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    torch.set_num_threads(2)
    if os.path.exists(args.out):
        shutil.rmtree(args.out)
    shutil.copytree(args.src, args.out, ignore=shutil.ignore_patterns("data"))
    cfg_path = os.path.join(args.out, "config.yaml")
    text = open(cfg_path).read()
    cfg = yaml.safe_load(text)
    cfg.setdefault("buffer", {})["capacity"] = args.rows
    with open(cfg_path, "w") as f:
        yaml.safe_dump(cfg, f, sort_keys=False, default_flow_style=False)
    actor = runload.load_actor(runload.find_model(args.src, "actor"))
    o, a, r, no, d = simulate(actor, args.rows, args.seed)
    buf = {"capacity": args.rows, "obs_dim": 3, "action_dim": 1, "size": args.rows, "index": 0,
           "observations": torch.from_numpy(o), "actions": torch.from_numpy(a), "rewards": torch.from_numpy(r),
           "next_observations": torch.from_numpy(no), "dones": torch.from_numpy(d)}
    os.makedirs(os.path.join(args.out, "data"), exist_ok=True)
    b = io.BytesIO()
    torch.save(buf, b)
    with open(os.path.join(args.out, "data", "replay_buffer.pth"), "wb") as f:
        f.write(b.getvalue())
    print(f"wrote {args.out} with a {args.rows}-row replay buffer "
          f"({os.path.getsize(os.path.join(args.out, 'data', 'replay_buffer.pth')) / 1e6:.1f} MB)")


if __name__ == "__main__":
    main()
