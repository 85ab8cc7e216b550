#!/usr/bin/python3
"""What a user would write to draw a run's training curves with pandas and
matplotlib: read train.jsonl, keep the "train" source, and save one PNG per
numeric field of the step records (14 × 5 in at 100 dpi, like rleval's
figures) plus the two evaluation reward figures. The reference for issue
#11's "curves alone" timing.

    /usr/bin/python3 bench/reference/curves_pandas.py RUN_DIR [--out DIR]

Prints one JSON object: seconds to parse, to plot, in total, and the number
of figures.
"""
import argparse
import json
import os
import time

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402


def find_log(run):
    for p in ("train.jsonl", os.path.join("train_logs", "train.jsonl")):
        if os.path.exists(os.path.join(run, p)):
            return os.path.join(run, p)
    raise SystemExit(f"{run}: no train.jsonl")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("run")
    ap.add_argument("--out", default="curves-pandas-out")
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    t0 = time.perf_counter()
    df = pd.read_json(find_log(a.run), lines=True)
    df = df[df["source"] == "train"]
    steps = df[df["event"] == "step"]
    evals = df[df["event"] == "evaluation"]
    t1 = time.perf_counter()
    figures = 0
    if len(evals):
        fig, ax = plt.subplots(figsize=(14, 5))
        ax.plot(evals["step"], evals["reward_mean"], "o-", markersize=3, label="reward_mean")
        ax.fill_between(evals["step"], evals["reward_min"], evals["reward_max"], alpha=0.2, label="reward min–max")
        ax.set(title="Evaluation: mean reward per step", xlabel="Training step", ylabel="Reward (mean per step)")
        ax.grid(True, alpha=0.3)
        ax.legend()
        fig.savefig(os.path.join(a.out, "eval_reward_mean.png"), dpi=100)
        plt.close(fig)
        fig, ax = plt.subplots(figsize=(14, 5))
        ax.plot(evals["step"], evals["reward_sum"], "o-", markersize=3, color="tab:green", label="reward_sum")
        ax.set(title="Evaluation: total reward per episode", xlabel="Training step", ylabel="Reward (sum)")
        ax.grid(True, alpha=0.3)
        ax.legend()
        fig.savefig(os.path.join(a.out, "eval_reward_sum.png"), dpi=100)
        plt.close(fig)
        figures += 2
    skip = {"source", "event", "step", "time"}
    for name in steps.columns:
        if name in skip or not pd.api.types.is_numeric_dtype(steps[name]):
            continue
        s = steps[["step", name]].dropna()
        if s.empty:
            continue
        fig, ax = plt.subplots(figsize=(14, 5))
        ax.plot(s["step"], s[name], alpha=0.7, linewidth=0.8, label=name)
        ax.set(title=name, xlabel="Training step", ylabel=name)
        ax.grid(True, alpha=0.3)
        ax.legend()
        fig.savefig(os.path.join(a.out, f"train_{name}.png"), dpi=100)
        plt.close(fig)
        figures += 1
    t2 = time.perf_counter()
    print(json.dumps({"parse_s": round(t1 - t0, 2), "plot_s": round(t2 - t1, 2), "total_s": round(t2 - t0, 2), "figures": figures}))


if __name__ == "__main__":
    main()
