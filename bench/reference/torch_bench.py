#!/usr/bin/python3
"""PyTorch CPU reference numbers for `rleval bench --compare-torch`.

    /usr/bin/python3 bench/reference/torch_bench.py --batch 1,64,1024,16384 \
        --rows 200000 --hidden 256,256 --threads 1 --obs-dim 3 --act-dim 1 [--run RUN_DIR]

For each batch size and workload (actor; one critic; q_full = actor + Q1, Q2 at
(s, a) + Q1, Q2 at (s, pi(s))) it runs ceil(rows / batch) batches (at least
--min-batches), after --warmup untimed batches, and reports rows/s over the
timed batches and the per-batch latency median and p95. Prints one JSON object:

    {"torch_version": ..., "threads": ..., "results": [{"workload": "actor"|"critic"|"q_full",
      "batch": B, "rows_per_s": ..., "latency_median_s": ..., "latency_p95_s": ...}, ...]}
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


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--batch", default="1,64,1024,16384")
    ap.add_argument("--rows", type=int, default=200_000, help="rows per workload and batch size")
    ap.add_argument("--hidden", default="256,256")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--obs-dim", type=int, default=3)
    ap.add_argument("--act-dim", type=int, default=1)
    ap.add_argument("--run", default="", help="run directory: use its actor/critic1/critic2 and buffer rows")
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--min-batches", type=int, default=5)
    ap.add_argument("--max-batches", type=int, default=20000, help="cap for tiny batches")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    batches = [int(b) for b in args.batch.split(",") if b]
    hidden = [int(h) for h in args.hidden.split(",") if h]

    buf = None
    if args.run:
        actor, c1, c2 = runload.load_run_nets(args.run, args.act_dim)
        buf = runload.load_buffer(args.run)
        obs_dim = actor.mlp.in_dim
        hidden = [w.shape[0] for w, _ in actor.mlp.layers[:-1]]
    else:
        actor, c1, c2 = runload.random_nets(args.obs_dim, args.act_dim, hidden, args.seed)
        obs_dim = args.obs_dim
    maxb = max(batches)
    obs, act = runload.rows_of(buf[0] if buf else None, buf[1] if buf else None, maxb, obs_dim, args.act_dim,
                               args.seed)

    def w_actor(o, a):
        return actor(o)

    def w_critic(o, a):
        return c1(o, a)

    def w_q_full(o, a):
        qb = torch.min(c1(o, a), c2(o, a))
        pa = actor(o)
        return qb, torch.min(c1(o, pa), c2(o, pa))

    results = []
    with torch.no_grad():
        for name, fn in (("actor", w_actor), ("critic", w_critic), ("q_full", w_q_full)):
            for b in batches:
                o, a = obs[:b].contiguous(), act[:b].contiguous()
                n = max(args.min_batches, min(args.max_batches, -(-args.rows // b)))
                for _ in range(args.warmup):
                    fn(o, a)
                lat = np.empty(n)
                t0 = time.perf_counter()
                for i in range(n):
                    s = time.perf_counter()
                    fn(o, a)
                    lat[i] = time.perf_counter() - s
                total = time.perf_counter() - t0
                results.append({"workload": name, "batch": b, "batches": n, "rows_per_s": n * b / total,
                                "latency_median_s": float(np.median(lat)),
                                "latency_p95_s": float(np.percentile(lat, 95))})
    print(json.dumps({"torch_version": torch.__version__, "threads": args.threads, "hidden": hidden,
                      "obs_dim": obs_dim, "act_dim": args.act_dim, "source": args.run or "random",
                      "results": results}))


if __name__ == "__main__":
    main()
