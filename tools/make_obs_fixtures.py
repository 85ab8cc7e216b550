#!/usr/bin/python3
"""Fixtures for maps over any observation space (issue 13).

Writes small gen-2 runs (agent_td3/ or agent_sac/, `_network.net.N.*`,
`_scaler.low/high/range`, a 2 x action_dim last layer for SAC) with 2, 3, 4
and 17 observations, tiny networks (16x16) and tiny buffers, and PyTorch's
maps for given --axes/--fix, so Go tests compare without Python:

    /usr/bin/python3 tools/make_obs_fixtures.py --out testdata

testdata/runs-obs/<run>/                     the runs
testdata/expected-obs/<run>/<case>/          *.npy maps and case.json (the flags)

The networks are untrained (seeded torch init): the maps only have to agree
with PyTorch on the same files. Grids follow rleval: x = linspace(LO, HI, N)
along columns, y along rows (origin lower-left), built in float64 and
rounded once to float32; values off the plane at --fix, else the buffer's
mean (float64), else 0.
"""
import argparse
import json
import os
import sys
from collections import OrderedDict

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_fixtures as mf  # noqa: E402  (the gen-2 save format, reused)

HIDDEN = (16, 16)

# name, env, algo, obs_dim, act_dim, obs scales (std per dim), cases
RUNS = [
    ("2026-08-01_10-00-00_obs4-sac", "LaserStabilizer-v0", "sac", 4, 1, [0.5, 0.3, 0.8, 0.1], [
        ("example", {"grid": 64, "axes": "0:-1:1,2:-0.5:0.5", "fix": "1=0.25,3=-0.1"}),
        ("default", {"grid": 16}),
    ]),
    ("2026-08-01_11-00-00_obs3-td3", "Custom3-v0", "td3", 3, 1, [1.0, 0.2, 2.0], [
        ("swapped", {"grid": 16, "axes": "2:-2:2,1:-1:1", "fix": "0=0.5"}),
        ("default", {"grid": 16}),
    ]),
    ("2026-08-01_12-00-00_obs17-td3", "Custom17-v0", "td3", 17, 2,
     [0.1 * (1 + (i * 7) % 11) for i in range(17)], [
        ("default", {"grid": 16}),
        ("axes", {"grid": 16, "axes": "16:-1:1,3:-2:2", "fix": "0=1,5=-0.5"}),
    ]),
    ("2026-08-01_13-00-00_mountaincar-td3", "MountainCarContinuous-v0", "td3", 2, 1, [0.3, 0.02], [
        ("preset", {"grid": 16}),
    ]),
]


def make_buffer(rng, obs_dim, act_dim, scales, size=96, capacity=128):
    buf = mf.Buffer(capacity, obs_dim, act_dim)
    for _ in range(size):
        o = (rng.normal(size=obs_dim) * scales + 0.1).astype(np.float32)
        no = (o + rng.normal(size=obs_dim) * 0.01).astype(np.float32)
        a = rng.uniform(-1, 1, size=act_dim).astype(np.float32)
        buf.add(o, a, float(rng.normal()), no, bool(rng.random() < 0.05))
    return buf


def log_records(algo, act_dim):
    recs = []
    for k in range(1, 6):
        r = {"source": "train", "event": "step", "step": 100 * k, "buffer_size": 100 * k, "time": float(k),
             "loss_q1": 1.0 / k, "loss_q2": 1.1 / k, "actor_loss": -0.5 * k}
        if algo == "sac":
            r.update({"alpha_loss": -0.1 * k, "alpha": 1.0 - 0.05 * k, "entropy": float(act_dim) - 0.3 * k})
        recs.append(r)
        recs.append({"source": "train", "event": "evaluation", "step": 100 * k, "time": float(k), "episodes": 1,
                     "reward_mean": -5.0 + k, "reward_sum": -1000.0 + 200 * k, "reward_max": -4.0 + k, "reward_min": -6.0 + k})
    return recs


def plane(obs_dim, buf, spec, preset_axes=None):
    """The plane rleval resolves: (xi, xlo, xhi), (yi, ylo, yhi), base (float64)."""
    obs = buf.obs[:buf.size]
    base = obs.astype(np.float64).mean(axis=0)
    if "axes" in spec:
        ax = []
        for part in spec["axes"].split(","):
            i, lo, hi = part.split(":")
            ax.append((int(i), float(lo), float(hi)))
    elif preset_axes is not None:
        ax = preset_axes
    else:
        var = obs.astype(np.float64).var(axis=0)
        order = sorted(range(obs_dim), key=lambda d: (-var[d], d))[:2]
        ax = []
        for d in sorted(order):
            lo, hi = np.quantile(obs[:, d].astype(np.float64), [0.005, 0.995])
            ax.append((d, float(lo), float(hi)))
    for kv in filter(None, spec.get("fix", "").split(",")):
        k, v = kv.split("=")
        base[int(k)] = float(v)
    return ax[0], ax[1], base


def grid_obs(n, xa, ya, base):
    xs = np.linspace(xa[1], xa[2], n)
    ys = np.linspace(ya[1], ya[2], n)
    o = np.tile(base, (n * n, 1))
    o[:, xa[0]] = np.tile(xs, n)       # columns vary fastest
    o[:, ya[0]] = np.repeat(ys, n)     # rows
    return torch.tensor(o, dtype=torch.float32)


def write_run(out, name, env, algo, obs_dim, act_dim, scales, cases, seed):
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    run = os.path.join(out, "runs-obs", name)
    mf.fresh(run)
    sac = algo == "sac"
    nets = OrderedDict()
    nets["actor"] = mf.Actor(obs_dim, act_dim, HIDDEN, low=-1.0, high=1.0, sac=sac)
    if not sac:
        nets["actor_target"] = mf.Actor(obs_dim, act_dim, HIDDEN, low=-1.0, high=1.0)
    for c in ("critic1", "critic2", "critic1_target", "critic2_target"):
        nets[c] = mf.Critic(obs_dim, act_dim, HIDDEN)
    cfg = mf.base_config(name[20:], algo, HIDDEN, 500, 128, 100, 100, 100, ".", 100)
    cfg["env"] = {"name": env, "max_episode_steps": 200, "render_mode": None}
    if sac:
        cfg["algorithm"]["target_entropy"] = -float(act_dim)
    mf.write_config(run, cfg)
    mf.write_jsonl(os.path.join(run, "train.jsonl"), log_records(algo, act_dim))
    agent = os.path.join(run, "agent_" + algo)
    for nm, net in nets.items():
        kind = "actor" if nm.startswith("actor") else "critic"
        mf.save_path(mf.gen2_state(net, kind), os.path.join(agent, nm + ".pt"))
    log_alpha = None
    if sac:
        log_alpha = torch.tensor([-0.75], requires_grad=True)
        mf.save_path(log_alpha, os.path.join(agent, "log_alpha.pt"))
    buf = make_buffer(rng, obs_dim, act_dim, np.array(scales))
    mf.save_path(buf.to_dict(), os.path.join(run, "data", "replay_buffer.pth"))
    preset = None
    if env == "MountainCarContinuous-v0":
        preset = [(0, -1.2, 0.6), (1, -0.07, 0.07)]
    actor, c1, c2 = nets["actor"], nets["critic1"], nets["critic2"]
    for case, spec in cases:
        xa, ya, base = plane(obs_dim, buf, spec, preset)
        n = spec["grid"]
        o = grid_obs(n, xa, ya, base)
        shape = (n, n) if act_dim == 1 else (n, n, act_dim)
        with torch.no_grad():
            a = actor(o)
            q = torch.min(c1(o, a), c2(o, a))
            arrays = {"policy_grid": a.numpy().reshape(shape), "q_grid": q.numpy().reshape(n, n)}
            if sac:
                log_std = actor.net(o)[:, act_dim:]
                arrays["policy_std_grid"] = torch.exp(torch.clamp(log_std, -20, 2)).numpy().reshape(shape)
        d = os.path.join(out, "expected-obs", name, case)
        os.makedirs(d, exist_ok=True)
        for k, v in arrays.items():
            np.save(os.path.join(d, k + ".npy"), v.astype(np.float32))
        meta = dict(spec)
        meta["x"] = {"index": xa[0], "lo": xa[1], "hi": xa[2]}
        meta["y"] = {"index": ya[0], "lo": ya[1], "hi": ya[2]}
        meta["fixed"] = {str(i): float(base[i]) for i in range(obs_dim) if i not in (xa[0], ya[0])}
        if sac:
            with torch.no_grad():
                bo = torch.from_numpy(buf.obs[:buf.size])
                bs = torch.exp(torch.clamp(actor.net(bo)[:, act_dim:], -20, 2)).numpy().astype(np.float64)
            meta["std_buffer"] = [{"mean": float(bs[:, d].mean()), "std": float(bs[:, d].std()),
                                   "min": float(bs[:, d].min()), "max": float(bs[:, d].max())} for d in range(act_dim)]
            meta["alpha"] = float(torch.exp(log_alpha).item())
            meta["target_entropy"] = -float(act_dim)
        with open(os.path.join(d, "case.json"), "w") as f:
            json.dump(meta, f, indent=1, sort_keys=True)
            f.write("\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default="testdata")
    args = ap.parse_args()
    for k, (name, env, algo, od, ad, scales, cases) in enumerate(RUNS):
        write_run(args.out, name, env, algo, od, ad, scales, cases, 100 + k)


if __name__ == "__main__":
    main()
