#!/usr/bin/python3
"""PyTorch CPU throughput of the actor alone and of the full Q workload
(actor + 4 critic passes: Q1, Q2 at (s, a) and Q1, Q2 at (s, pi(s))) over N
buffer rows, processed in chunks. Prints one JSON object on stdout.

    /usr/bin/python3 bench/reference/torch_q.py [RUN_DIR] [--rows 1000000]
        [--chunk 4096] [--threads 1] [--hidden 256,256] [--repeat 3]

Without RUN_DIR the networks are random (seeded) with the given hidden sizes;
with it they are the run's actor/critic1/critic2, and the rows come from its
replay buffer (tiled up to --rows) when it has one.
"""
import argparse
import json
import os
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import runload  # noqa: E402


def run_chunks(fn, obs, act, chunk):
    n = obs.shape[0]
    t0 = time.perf_counter()
    with torch.no_grad():
        for i in range(0, n, chunk):
            fn(obs[i:i + chunk], act[i:i + chunk])
    return time.perf_counter() - t0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("run", nargs="?", help="run directory (optional)")
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--chunk", type=int, default=4096)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--hidden", default="256,256")
    ap.add_argument("--obs-dim", type=int, default=3)
    ap.add_argument("--act-dim", type=int, default=1)
    ap.add_argument("--repeat", type=int, default=3, help="timed passes; the best is reported")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    hidden = [int(h) for h in args.hidden.split(",") if h]

    buf = None
    if args.run:
        actor, c1, c2 = runload.load_run_nets(args.run, args.act_dim)
        buf = runload.load_buffer(args.run)
        obs_dim = actor.mlp.in_dim
    else:
        actor, c1, c2 = runload.random_nets(args.obs_dim, args.act_dim, hidden, args.seed)
        obs_dim = args.obs_dim
    obs, act = runload.rows_of(buf[0] if buf else None, buf[1] if buf else None, args.rows, obs_dim,
                               args.act_dim, args.seed)

    def actor_only(o, a):
        return actor(o)

    def q_full(o, a):
        q_b = torch.min(c1(o, a), c2(o, a))
        pa = actor(o)
        q_p = torch.min(c1(o, pa), c2(o, pa))
        return q_b, q_p

    # warm-up on one chunk
    run_chunks(q_full, obs[: args.chunk], act[: args.chunk], args.chunk)
    ta = min(run_chunks(actor_only, obs, act, args.chunk) for _ in range(args.repeat))
    tq = min(run_chunks(q_full, obs, act, args.chunk) for _ in range(args.repeat))
    out = {
        "torch_version": torch.__version__, "threads": args.threads, "rows": args.rows, "chunk": args.chunk,
        "hidden": [l[0].shape[0] for l in actor.mlp.layers[:-1]],
        "source": args.run or "random", "buffer_rows": int(buf[0].shape[0]) if buf else 0,
        "actor_rows_per_s": args.rows / ta, "actor_seconds": ta,
        "q_full_rows_per_s": args.rows / tq, "q_full_seconds": tq,
    }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
