#!/usr/bin/python3
"""Load every fixture file back with torch.load and check it against
testdata/expected/<run>/tensors.json and meta.json.

    /usr/bin/python3 tools/check_fixtures.py --out testdata
"""
import argparse
import json
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_fixtures as mf  # noqa: E402  (registers the fake Box modules)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default="testdata")
    args = ap.parse_args()
    bad = 0
    runs = sorted(os.listdir(os.path.join(args.out, "runs")))
    for run in runs:
        rd = os.path.join(args.out, "runs", run)
        ed = os.path.join(args.out, "expected", run)
        tj = json.load(open(os.path.join(ed, "tensors.json")))
        meta = json.load(open(os.path.join(ed, "meta.json")))
        n = 0
        for rel, tensors in tj.items():
            got = {}
            mf.walk_tensors(torch.load(os.path.join(rd, rel)), "", got)
            if set(got) != set(tensors):
                print(f"{run}/{rel}: tensor keys differ", file=sys.stderr)
                bad += 1
            for k, rec in tensors.items():
                if got.get(k, {}).get("sha256") != rec["sha256"]:
                    print(f"{run}/{rel}:{k}: sha mismatch", file=sys.stderr)
                    bad += 1
                n += 1
        for f in sorted(os.listdir(ed)):
            if f.endswith(".npy"):
                a = np.load(os.path.join(ed, f))
                assert a.dtype == np.float32, f
                if not np.all(np.isfinite(a)):
                    print(f"{run}/{f}: non-finite values", file=sys.stderr)
                    bad += 1
        pg = np.load(os.path.join(ed, "policy_grid.npy"))
        print(f"{run}: {len(tj)} files, {n} tensors ok; grid {pg.shape}; policy range "
              f"[{pg.min():.3f}, {pg.max():.3f}]; buffer {meta['buffer']}; prefixes "
              f"{sorted(set(str(v) for v in meta['member_prefix'].values()))}; "
              f"final eval reward_sum {meta['final_evaluation']['reward_sum']:.2f}")
    if not os.path.exists("/tmp/pwned"):
        print("bad/: /tmp/pwned absent (good)")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
