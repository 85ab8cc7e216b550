#!/usr/bin/python3
"""Write a benchmark run whose train.jsonl logs every step, as the trainer
does with `log_frequency: 1`: a copy of a fixture run (default the gen-2 one,
small Q part) with N step records of ten numeric fields each and 200
evaluations. 1,000,000 records make a ~290 MB log. Not committed; for
measuring `rleval run`/`inspect` against bench/reference/curves_pandas.py.

    /usr/bin/python3 tools/make_big_log.py --steps 1000000 --out /tmp/biglog-run [--from testdata/runs/<run>]

Values are float32 numbers written as Python floats (17 digits), like the
trainer's `loss.item()`; every line has the same keys in the same order.
"""
import argparse
import json
import os
import shutil

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
GEN2 = os.path.join(HERE, "..", "testdata", "runs", "2026-06-20_09-15-00_pendulum-gen2")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--steps", type=int, default=1_000_000)
    ap.add_argument("--evaluations", type=int, default=200)
    ap.add_argument("--out", required=True)
    ap.add_argument("--from", dest="src", default=GEN2)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    if os.path.exists(a.out):
        shutil.rmtree(a.out)
    shutil.copytree(a.src, a.out, ignore=shutil.ignore_patterns("*.jsonl"))
    log = os.path.join(a.out, "train.jsonl")
    if os.path.isdir(os.path.join(a.out, "train_logs")):
        log = os.path.join(a.out, "train_logs", "train.jsonl")
    rng = np.random.default_rng(a.seed)
    n = a.steps
    k = np.arange(n, dtype=np.float64)
    decay = np.exp(-k / (n / 5))
    cols = {
        "loss_q1": (0.1 + 2 * decay) * rng.lognormal(0, 0.5, n),
        "loss_q2": (0.1 + 2 * decay) * rng.lognormal(0, 0.5, n),
        "actor_loss": 5 + 60 * (1 - decay) + rng.normal(0, 1, n),
        "q1_mean": -(60 * (1 - decay)) + rng.normal(0, 0.5, n),
        "q2_mean": -(60 * (1 - decay)) + rng.normal(0, 0.5, n),
        "target_q_mean": -(60 * (1 - decay)) + rng.normal(0, 0.4, n),
        "reward": -np.abs(rng.normal(0, 3 * decay + 0.2, n)),
    }
    cols = {name: v.astype(np.float32).astype(np.float64).tolist() for name, v in cols.items()}
    every = max(n // a.evaluations, 1)
    start = 1000
    with open(log, "w") as f:
        buf = []
        for i in range(n):
            step = start + i
            rec = {"source": "train", "event": "step", "step": step, "buffer_size": min(step, 2_000_000),
                   "time": round(step * 0.0042, 2)}
            for name, v in cols.items():
                rec[name] = v[i]
            buf.append(json.dumps(rec))
            if (i + 1) % every == 0:
                r = -1600 * float(decay[i]) - 150 + float(rng.normal(0, 20))
                buf.append(json.dumps({"source": "train", "event": "evaluation", "step": step, "time": round(step * 0.0042, 2),
                                       "episodes": 5, "reward_mean": r / 200, "reward_sum": r,
                                       "reward_max": r / 200 + 1.5, "reward_min": r / 200 - 3}))
            if len(buf) >= 10000:
                f.write("\n".join(buf) + "\n")
                buf = []
        if buf:
            f.write("\n".join(buf) + "\n")
    print(f"{log}: {os.path.getsize(log) / 1e6:.0f} MB, {n} step records, {n // every} evaluations")


if __name__ == "__main__":
    main()
