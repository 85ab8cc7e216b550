#!/usr/bin/env python3
"""Reference rollouts for the returns job (issue #22), in numpy + PyTorch.

Writes, for Pendulum-v1 (the pendulum-v1 fixture run's 256x256 TD3 actor)
and MountainCarContinuous-v0 (a small hand-shaped "energy pump" actor this
script writes as testdata/runs-rollout/2026-09-01_10-00-00_mountaincar-pump):

  testdata/rollout/<env>.json: the 32x32 plane's value grid
      V(s) = sum_{t<H} gamma^t r_t (H = 1000, the time limit ignored, a
      terminal state ends the sum), and 1000 episodes from numpy-seeded reset
      states (their initial states, undiscounted returns, mean and a 95%
      percentile bootstrap interval of the mean).

The dynamics are Gymnasium 1.0's pendulum.py and continuous_mountain_car.py
vectorised with the dtypes Gymnasium's scalar code has under NumPy 1.x
(Debian's 1.24): float64, the action float32; Pendulum's u**2 in float32;
MountainCar's state stored as float32 after every step (so 3*x is a float32
product after the first step). Run by hand from the repository root:

    python3 tools/make_rollout_fixtures.py
"""
import json
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_fixtures as mf  # noqa: E402 (beside this script)

GRID, HORIZON, EPISODES, BOOT = 32, 1000, 1000, 10000
PEND_RUN = "testdata/runs/2026-02-14_13-38-10_pendulum-v1"
MC_RUN = "testdata/runs-rollout/2026-09-01_10-00-00_mountaincar-pump"


def angle_normalize(x):
    return ((x + np.pi) % (2 * np.pi)) - np.pi


def pendulum_step(s, a):
    th, thd = s[:, 0], s[:, 1]
    u = np.clip(a, -2.0, 2.0).astype(np.float32)
    u2 = (u * u).astype(np.float32)
    costs = angle_normalize(th) ** 2 + 0.1 * thd ** 2 + 0.001 * u2.astype(np.float64)
    newthd = thd + (3 * 10.0 / (2 * 1.0) * np.sin(th) + 3.0 / (1.0 * 1.0 ** 2) * u.astype(np.float64)) * 0.05
    newthd = np.clip(newthd, -8.0, 8.0)
    newth = th + newthd * 0.05
    return np.stack([newth, newthd], 1), -costs, np.zeros(len(s), bool)


def pendulum_obs(s):
    return np.stack([np.cos(s[:, 0]), np.sin(s[:, 0]), s[:, 1]], 1).astype(np.float32)


def mc_step(s, a):
    x, v = s[:, 0], s[:, 1]
    a64 = a.astype(np.float64)
    f = np.clip(a64, -1.0, 1.0)
    x3 = (3 * x).astype(np.float64)  # float32 when the state is a stored float32
    v = v.astype(np.float64) + f * 0.0015 - 0.0025 * np.cos(x3)
    v = np.clip(v, -0.07, 0.07)
    x = np.clip(x.astype(np.float64) + v, -1.2, 0.6)
    v = np.where((x == -1.2) & (v < 0), 0.0, v)
    term = (x >= 0.45) & (v >= 0)
    r = np.where(term, 100.0, 0.0) - a64 ** 2 * 0.1
    return np.stack([x, v], 1).astype(np.float32), r, term


def mc_obs(s):
    return s.astype(np.float32)


def rollout(actor, step, obs, s, steps, gamma):
    """Discounted return of each state, stopped at a terminal state."""
    n = len(s)
    ret = np.zeros(n)
    alive = np.ones(n, bool)
    disc = 1.0
    for _ in range(steps):
        with torch.no_grad():
            a = actor(torch.from_numpy(obs(s))).numpy()[:, 0]
        s, r, term = step(s, a)
        ret += np.where(alive, disc * r, 0.0)
        alive &= ~term
        disc *= gamma
        if not alive.any():
            break
    return ret


def bootstrap_mean(x, reps, seed):
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(x), size=(reps, len(x)))
    m = x[idx].mean(1)
    return float(np.percentile(m, 2.5)), float(np.percentile(m, 97.5))


def reference(name, actor, step, obs, grid_obs, from_obs, reset, gamma, time_limit, seed):
    xs, ys, obs_of = grid_obs
    gx, gy = np.meshgrid(xs, ys)  # row = y, column = x
    o = obs_of(gx.flatten(), gy.flatten())
    s0 = from_obs(o)
    value = rollout(actor, step, obs, s0, HORIZON, gamma)
    rng = np.random.default_rng(seed)
    init = reset(rng, EPISODES)
    rets = rollout(actor, step, obs, init.copy(), time_limit, 1.0)
    lo, hi = bootstrap_mean(rets, BOOT, seed)
    out = {"env": name, "gamma": gamma, "horizon": HORIZON, "grid": GRID,
           "value_grid": value.tolist(),
           "episodes": {"n": EPISODES, "time_limit": time_limit, "init": init.tolist(), "returns": rets.tolist(),
                        "mean": float(rets.mean()), "lo": lo, "hi": hi}}
    path = os.path.join("testdata", "rollout", name + ".json")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        json.dump(out, f)
        f.write("\n")
    print(f"{path}: value grid mean {value.mean():.4f}, episode mean {rets.mean():.3f} [{lo:.3f}, {hi:.3f}]")


def pump_actor():
    """A 2-16-16-1 TD3 actor whose action is about tanh(1000 v): it pumps
    energy into the car and reaches the goal from most states; small random
    weights elsewhere make it a little position-dependent."""
    torch.manual_seed(7)
    a = mf.Actor(2, 1, [16, 16], low=-1.0, high=1.0)
    with torch.no_grad():
        for lin in (a.net[0], a.net[2], a.net[4]):
            lin.weight.mul_(0.05)
            lin.bias.mul_(0.05)
        a.net[0].weight[0] = torch.tensor([0.0, 200.0])
        a.net[0].weight[1] = torch.tensor([0.0, -200.0])
        a.net[0].bias[:2] = 0
        a.net[2].weight[:2] = 0
        a.net[2].weight[0, 0] = 1
        a.net[2].weight[1, 1] = 1
        a.net[2].bias[:2] = 0
        a.net[4].weight[0, 0] = 5
        a.net[4].weight[0, 1] = -5
    return a


def write_mc_run(actor):
    mf.fresh(MC_RUN)
    cfg = mf.base_config("mountaincar-pump", "td3", [16, 16], 500, 128, 100, 100, 100, ".", 100)
    cfg["env"] = {"name": "MountainCarContinuous-v0", "max_episode_steps": 999, "render_mode": None}
    cfg["algorithm"]["gamma"] = 0.99
    cfg["notes"] = "fixture generated by tools/make_rollout_fixtures.py"
    mf.write_config(MC_RUN, cfg)
    mf.save_path(mf.gen2_state(actor, "actor"), os.path.join(MC_RUN, "agent_td3", "actor.pt"))


def main():
    torch.set_num_threads(1)
    mf.register_fake_modules()
    pend, _, _ = mf.load_net(os.path.join(PEND_RUN, "models", "actor.pth"), "actor")

    def pend_from_obs(o):
        return np.stack([np.arctan2(o[:, 1], o[:, 0]), o[:, 2]], 1)

    def pend_reset(rng, n):
        return np.stack([rng.uniform(-np.pi, np.pi, n), rng.uniform(-1, 1, n)], 1)

    pend_grid = (np.linspace(-np.pi, np.pi, GRID), np.linspace(-8, 8, GRID),
                 lambda x, y: np.stack([np.cos(x), np.sin(x), y], 1))
    reference("pendulum", pend, pendulum_step, pendulum_obs, pend_grid, pend_from_obs, pend_reset, 0.98, 200, 1)

    write_mc_run(pump_actor())
    mc, _, _ = mf.load_net(os.path.join(MC_RUN, "agent_td3", "actor.pt"), "actor")

    def mc_reset(rng, n):
        return np.stack([rng.uniform(-0.6, -0.4, n), np.zeros(n)], 1)

    mc_grid = (np.linspace(-1.2, 0.6, GRID), np.linspace(-0.07, 0.07, GRID), lambda x, y: np.stack([x, y], 1))
    reference("mountaincar", mc, mc_step, mc_obs, mc_grid, lambda o: o.copy(), mc_reset, 0.99, 999, 2)


if __name__ == "__main__":
    main()
