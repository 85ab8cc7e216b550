#!/usr/bin/python3
"""Write rleval's fixture for checkpoints along training: an RL Zoo TD3 run
(logs/td3/Pendulum-v1_1/) holding five rl_model_<N>_steps.zip checkpoints,
the final model Pendulum-v1.zip, a replay buffer, evaluations.npz and the
run's config, each saved as make_layouts.py saves them (Stable-Baselines3's
own formats), plus what PyTorch computes on every checkpoint.

    /usr/bin/python3 tools/make_checkpoints.py --out testdata

writes testdata/checkpoints/logs/td3/Pendulum-v1_1/ and
testdata/expected-checkpoints/step_<N>/ (policy_grid.npy, q_grid.npy =
min(Q1, Q2) at (s, pi(s)) on make_layouts.py's Pendulum grid, q_buffer.npy
= min(Q1, Q2) at the buffer's stored actions, and the other arrays of
make_layouts.write_expected), N the checkpoint's step and 600 for the final
model. The networks are small (16x16) to keep the files small; each
checkpoint has other weights.
"""
import argparse
import os
import pickle
import shutil

import torch

import make_layouts as ml

STEPS = [100, 200, 300, 400, 500]
FINAL = 600


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default="testdata")
    args = ap.parse_args()
    root = os.path.join(args.out, "checkpoints")
    exp_root = os.path.join(args.out, "expected-checkpoints")
    for d in (root, exp_root):
        shutil.rmtree(d, ignore_errors=True)
    g = torch.Generator().manual_seed(20)
    torch.manual_seed(20)
    run = os.path.join(root, "logs", "td3", "Pendulum-v1_1")
    os.makedirs(os.path.join(run, "Pendulum-v1"))
    pk = {"net_arch": ml.HID}
    rb = ml.make_replay_buffer(g)
    with open(os.path.join(run, "replay_buffer.pkl"), "wb") as f:
        pickle.dump(rb, f, protocol=pickle.HIGHEST_PROTOCOL)
    for step in STEPS + [FINAL]:
        pol = ml.sb3_policy("td3", g)
        name = "Pendulum-v1.zip" if step == FINAL else f"rl_model_{step}_steps.zip"
        ml.save_sb3(os.path.join(run, name), "td3", pol, False, pk, step, g)
        ml.sb3_expected(os.path.join(exp_root, f"step_{step}"), "td3", pol, None, rb)
    ml.write_evaluations(os.path.join(run, "evaluations.npz"), g)
    ml.write_monitor(os.path.join(run, "0.monitor.csv"), g)
    with open(os.path.join(run, "Pendulum-v1", "config.yml"), "w") as f:
        f.write(ml.zoo_yaml([("buffer_size", 100), ("gamma", 0.98), ("learning_starts", 100),
                             ("n_timesteps", float(FINAL)), ("policy", "MlpPolicy"), ("policy_kwargs", repr(str(pk)))]))
    with open(os.path.join(run, "Pendulum-v1", "args.yml"), "w") as f:
        f.write(ml.zoo_yaml([("algo", "td3"), ("env", "Pendulum-v1"), ("seed", 1), ("save_freq", 100)]))


if __name__ == "__main__":
    main()
