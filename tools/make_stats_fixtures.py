#!/usr/bin/python3
"""Generate the expected values of rleval's statistics (package stats), the
groups of a seeded sweep, and the value-estimation bias of the fixture runs,
computed with numpy and scipy, into testdata/stats/.

    /usr/bin/python3 tools/make_stats_fixtures.py --out testdata

Needs numpy, scipy (Debian's python3-scipy) and, for the value-bias part,
torch and PyYAML (python3-torch, python3-yaml). Everything is seeded;
reruns give identical files. Runtime: under a minute.

Definitions follow rliable (Agarwal et al. 2021, rliable/metrics.py and
library.py): aggregate_mean = mean of per-task means, aggregate_median =
median of per-task means (over runs for one task), aggregate_iqm =
scipy.stats.trim_mean(scores, 0.25, axis=None), optimality gap = 1 -
mean(min(scores, 1)), probability of improvement = mean over tasks of
Mann-Whitney U / (n m); stratified bootstrap resamples the runs of each
task independently; percentile intervals use numpy.percentile's default
'linear' method.
"""

import argparse
import json
import math
import os

import numpy as np
import scipy.stats


def agg_mean(s):  # s: runs x tasks
    return float(np.mean(np.mean(s, axis=0)))


def agg_median(s):
    if s.shape[1] == 1:
        return float(np.median(s[:, 0]))
    return float(np.median(np.mean(s, axis=0)))


def agg_iqm(s):
    return float(scipy.stats.trim_mean(s, proportiontocut=0.25, axis=None))


def agg_gap(s):
    return float(1 - np.mean(np.minimum(s, 1)))


def poi(x, y):  # one task
    u = scipy.stats.mannwhitneyu(x, y, alternative="greater").statistic
    return float(u / (len(x) * len(y)))


def boot(s, fn, reps, rng):
    """Stratified bootstrap percentile interval of fn over s (runs x tasks)."""
    n, t = s.shape
    vals = np.empty(reps)
    cols = np.arange(t)
    for r in range(reps):
        idx = rng.integers(0, n, size=(n, t))
        vals[r] = fn(s[idx, cols])
    return [float(np.percentile(vals, 2.5)), float(np.percentile(vals, 97.5))]


def basics(rng):
    cases = []
    for n in [1, 2, 3, 4, 5, 7, 8, 10, 13, 26, 41]:
        x = np.round(rng.normal(size=n) * 10, 1)  # rounding makes ties
        cases.append({
            "x": x.tolist(),
            "trim_mean": float(scipy.stats.trim_mean(x, 0.25)),
            "median": float(np.median(x)),
            "percentile": {str(q): float(np.percentile(x, q)) for q in [0, 2.5, 25, 50, 62.5, 97.5, 100]},
        })
    return cases


def matrices(rng):
    out = []
    for runs, tasks in [(5, 1), (10, 4), (3, 7)]:
        s = rng.normal(loc=0.5, scale=0.4, size=(runs, tasks))
        out.append({"scores": s.T.tolist(),  # task-major
                    "mean": agg_mean(s), "median": agg_median(s), "iqm": agg_iqm(s), "optimality_gap": agg_gap(s)})
    return out


def improvements(rng):
    out = []
    for n, m in [(5, 5), (3, 7), (10, 10)]:
        x = np.round(rng.normal(size=n), 1)
        y = np.round(rng.normal(loc=0.2, size=m), 1)
        out.append({"x": x.tolist(), "y": y.tolist(), "p": poi(x, y)})
    return out


def bootstraps(rng):
    """Intervals with 50,000 replicates; Go's differ by Monte Carlo error."""
    out = []
    s = np.array([[-160.5, -140.2, -150.0, -300.1, -155.5]]).T  # one task, 5 seeds
    lo, hi = -400.0, 0.0
    ns = (s - lo) / (hi - lo)
    out.append({
        "scores": s.T.tolist(), "score_range": [lo, hi],
        "mean": boot(s, agg_mean, 50000, rng), "median": boot(s, agg_median, 50000, rng),
        "iqm": boot(s, agg_iqm, 50000, rng), "optimality_gap": boot(ns, agg_gap, 50000, rng),
    })
    s = rng.normal(loc=0.5, scale=0.3, size=(10, 4))
    out.append({
        "scores": s.T.tolist(), "score_range": [0.0, 1.0],
        "mean": boot(s, agg_mean, 20000, rng), "median": boot(s, agg_median, 20000, rng),
        "iqm": boot(s, agg_iqm, 20000, rng), "optimality_gap": boot(s, agg_gap, 20000, rng),
    })
    return out


def sweep(rng):
    """3 configurations x 5 seeds, each with an evaluation curve."""
    lrs = [0.0003, 0.001, 0.003]
    steps = [500.0 * (k + 1) for k in range(8)]
    runs = []
    for g, lr in enumerate(lrs):
        for seed in range(5):
            base = -1200 + 300 * g
            curve = [float(np.round(base * (1 - k / 10) + rng.normal() * 80, 3)) for k in range(len(steps))]
            runs.append({"lr": lr, "seed": seed, "steps": steps, "curve": curve})
    groups = []
    for g, lr in enumerate(lrs):
        rs = [r for r in runs if r["lr"] == lr]
        final = np.array([r["curve"][-1] for r in rs])
        curve = np.array([r["curve"] for r in rs])  # seeds x steps
        groups.append({
            "name": "algorithm.actor.optimizer.lr=%g" % lr,
            "final": final.tolist(),
            "mean": float(np.mean(final)), "median": float(np.median(final)),
            "iqm": float(scipy.stats.trim_mean(final, 0.25)),
            "iqm_curve": [float(scipy.stats.trim_mean(curve[:, k], 0.25)) for k in range(len(steps))],
        })
    p = [[poi(np.array(a["final"]), np.array(b["final"])) for b in groups] for a in groups]
    return {"runs": runs, "groups": groups, "poi": p}


def value_bias(testdata):
    import torch
    import yaml
    out = {}
    runs = os.path.join(testdata, "runs")
    for name in sorted(os.listdir(runs)):
        qpath = os.path.join(testdata, "expected", name, "q_buffer.npy")
        bpath = os.path.join(runs, name, "data", "replay_buffer.pth")
        if not (os.path.exists(qpath) and os.path.exists(bpath)):
            continue
        with open(os.path.join(runs, name, "config.yaml")) as f:
            cfg = yaml.safe_load(f) or {}
        gamma = float(((cfg.get("algorithm") or {}).get("gamma")) or 0.99)
        b = torch.load(bpath, map_location="cpu")
        size, cap, index = int(b["size"]), int(b["capacity"]), int(b["index"])
        order = np.arange(size) if size < cap else np.concatenate([np.arange(index, cap), np.arange(0, index)])
        obs = b["observations"][:size].numpy()[order]
        nxt = b["next_observations"][:size].numpy()[order]
        rew = b["rewards"][:size].numpy().reshape(size)[order].astype(np.float64)
        done = b["dones"][:size].numpy().reshape(size)[order].astype(bool)
        q = np.load(qpath).astype(np.float64).reshape(size)[order]
        end = done.copy()
        broken = np.zeros(size, bool)
        broken[:-1] = np.any(nxt[:-1] != obs[1:], axis=1)
        broken[-1] = True
        end |= broken
        g = np.zeros(size)
        for t in range(size - 1, -1, -1):
            g[t] = rew[t] if end[t] else rew[t] + gamma * g[t + 1]
        h = math.ceil(math.log(0.01) / math.log(gamma))
        use = np.zeros(size, bool)
        segments = complete = 0
        start = 0
        for t in range(size):
            if end[t]:
                segments += 1
                if done[t]:
                    complete += 1
                    use[start:t + 1] = True
                else:
                    use[start:max(start, t - h + 1)] = True  # rows with t_end - row >= h
                start = t + 1
        d = q[use] - g[use]
        out[name] = {
            "gamma": gamma, "horizon": h, "segments": segments, "complete_segments": complete,
            "states": int(use.sum()), "wrapped": size == cap,
            "mc_return_mean": float(np.mean(g[use])) if use.any() else None,
            "q_mean": float(np.mean(q[use])) if use.any() else None,
            "bias_mean": float(np.mean(d)) if use.any() else None,
            "bias_std": float(np.std(d)) if use.any() else None,
        }
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default="testdata")
    a = ap.parse_args()
    rng = np.random.default_rng(14)
    data = {"basics": basics(rng), "matrices": matrices(rng), "improvements": improvements(rng),
            "bootstraps": bootstraps(rng)}
    d = os.path.join(a.out, "stats")
    os.makedirs(d, exist_ok=True)

    def dump(name, v):
        with open(os.path.join(d, name), "w") as f:
            json.dump(v, f, indent=1)
            f.write("\n")

    dump("stats.json", data)
    dump("sweep.json", sweep(rng))
    dump("value_bias.json", value_bias(a.out))


if __name__ == "__main__":
    main()
