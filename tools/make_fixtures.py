#!/usr/bin/python3
"""Generate rleval's test fixtures: small, seeded Pendulum-v1 TD3/SAC runs in
the exact upstream on-disk layout (see /work/shared/FORMATS.md), the values
PyTorch computes on them (testdata/expected/), and hostile or broken files
(testdata/bad/).

    /usr/bin/python3 tools/make_fixtures.py --out testdata [--only demo,gen2,legacy,sac,bad]
    /usr/bin/python3 tools/make_fixtures.py --out testdata --parity-only

--parity-only adds the expected curves, histograms and config summary
(write_parity) to testdata/expected/ from the committed runs without
retraining, so no fixture input changes.

Needs torch (1.13 from Debian), numpy and PyYAML. Everything is seeded; the
"time" fields of the logs come from a synthetic clock so that reruns on the
same machine give byte-identical files (checked: a full rerun reproduced every
file except the legacy fixture's, whose storage keys torch takes from memory
addresses; their tensors, and so expected/, are identical). Runtime: about
2.5 minutes on an idle 2-core machine (the demo's 15,000 TD3 steps dominate).
After a rerun, check with `/usr/bin/python3 tools/check_fixtures.py --out testdata`.
"""

import argparse
import copy
import hashlib
import io
import json
import math
import os
import shutil
import sys
from collections import OrderedDict

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import yaml
from fixturelib import ensure_module, f32, grid_obs  # noqa: E402 (beside this script)

torch.set_num_threads(1)  # faster than 2 for 256-row batches on this machine

# ---------------------------------------------------------------------------
# Fake upstream modules so that Box pickles under the upstream class paths.


def _make_box_class(module_name):
    mod = ensure_module(module_name)
    if hasattr(mod, "Box"):
        return mod.Box

    class Box:
        """Stand-in for the upstream Box space: low, high (float32 tensors), dim."""

        def __init__(self, low, high):
            self.low = torch.as_tensor(low, dtype=torch.float32)
            self.high = torch.as_tensor(high, dtype=torch.float32)
            self.dim = int(self.low.numel())

    Box.__module__ = module_name
    Box.__qualname__ = "Box"
    Box.__name__ = "Box"
    mod.Box = Box
    return Box


BOX_GEN1 = _make_box_class("nn_laser_stabilizer.rl.envs.box")
BOX_LEGACY = _make_box_class("nn_laser_stabilizer.box")
BOX_GEN2 = _make_box_class("nn_laser_stabilizer.rl.envs.spaces.box")


def register_fake_modules():
    """Importers (bench/reference/notebook.py) call this before torch.load."""
    return BOX_GEN1, BOX_LEGACY, BOX_GEN2


# ---------------------------------------------------------------------------
# Pendulum-v1 (gymnasium equations).


class Pendulum:
    max_speed = 8.0
    max_torque = 2.0
    dt = 0.05
    g = 10.0
    m = 1.0
    l = 1.0
    episode_steps = 200

    def __init__(self, seed):
        self.rng = np.random.default_rng(seed)
        self.state = None
        self.t = 0

    def reset(self):
        high = np.array([np.pi, 1.0])
        self.state = self.rng.uniform(low=-high, high=high)
        self.t = 0
        return self._obs()

    def _obs(self):
        th, thdot = self.state
        return np.array([np.cos(th), np.sin(th), thdot], dtype=np.float32)

    def step(self, u):
        th, thdot = self.state
        u = float(np.clip(u, -self.max_torque, self.max_torque))
        th_norm = ((th + np.pi) % (2 * np.pi)) - np.pi
        cost = th_norm ** 2 + 0.1 * thdot ** 2 + 0.001 * u ** 2
        newthdot = thdot + (3 * self.g / (2 * self.l) * np.sin(th) + 3.0 / (self.m * self.l ** 2) * u) * self.dt
        newthdot = np.clip(newthdot, -self.max_speed, self.max_speed)
        newth = th + newthdot * self.dt
        self.state = np.array([newth, newthdot])
        self.t += 1
        truncated = self.t >= self.episode_steps
        return self._obs(), -float(cost), False, truncated


# ---------------------------------------------------------------------------
# Networks.


def mlp(in_dim, hidden, out_dim):
    layers = []
    d = in_dim
    for h in hidden:
        layers += [nn.Linear(d, h), nn.ReLU()]
        d = h
    layers.append(nn.Linear(d, out_dim))
    return nn.Sequential(*layers)


class Actor(nn.Module):
    def __init__(self, obs_dim, act_dim, hidden, low=-2.0, high=2.0, sac=False):
        super().__init__()
        self.net = mlp(obs_dim, hidden, 2 * act_dim if sac else act_dim)
        self.act_dim = act_dim
        self.sac = sac
        self.register_buffer("low", torch.full((act_dim,), low, dtype=torch.float32))
        self.register_buffer("high", torch.full((act_dim,), high, dtype=torch.float32))

    def scale(self, u):
        return self.low + (torch.tanh(u) + 1) * (self.high - self.low) / 2

    def forward(self, obs):
        out = self.net(obs)
        if self.sac:
            out = out[:, : self.act_dim]
        return self.scale(out)

    def sample(self, obs):
        out = self.net(obs)
        mean, log_std = out[:, : self.act_dim], out[:, self.act_dim:]
        std = torch.exp(torch.clamp(log_std, -20, 2))
        u = mean + std * torch.randn_like(mean)
        logp = (-0.5 * ((u - mean) / std) ** 2 - torch.log(std) - 0.5 * math.log(2 * math.pi)).sum(1, keepdim=True)
        t = torch.tanh(u)
        half = (self.high - self.low) / 2
        logp = logp - (torch.log(half * (1 - t.pow(2)) + 1e-6)).sum(1, keepdim=True)
        return self.low + (t + 1) * half, logp


class Critic(nn.Module):
    def __init__(self, obs_dim, act_dim, hidden):
        super().__init__()
        self.net = mlp(obs_dim + act_dim, hidden, 1)

    def forward(self, obs, act):
        return self.net(torch.cat([obs, act], 1))


def linear_items(net_sd, prefix):
    """OrderedDict of the Sequential's state renamed with prefix."""
    out = OrderedDict()
    for k, v in net_sd.items():
        out[prefix + k] = v.detach().clone()
    return out


def gen1_state(module, kind):
    prefix = "net_body." if kind == "actor" else "net."
    return linear_items(module.net.state_dict(), prefix)


def gen2_state(module, kind):
    sd = linear_items(module.net.state_dict(), "_network.net.")
    if kind == "actor":
        sd["_scaler.low"] = module.low.detach().clone()
        sd["_scaler.high"] = module.high.detach().clone()
        sd["_scaler.range"] = (module.high - module.low).detach().clone()
    return sd


# ---------------------------------------------------------------------------
# Replay buffer.


class Buffer:
    def __init__(self, capacity, obs_dim, act_dim):
        self.capacity = capacity
        self.obs_dim = obs_dim
        self.act_dim = act_dim
        self.obs = np.zeros((capacity, obs_dim), np.float32)
        self.act = np.zeros((capacity, act_dim), np.float32)
        self.rew = np.zeros((capacity, 1), np.float32)
        self.nobs = np.zeros((capacity, obs_dim), np.float32)
        self.done = np.zeros((capacity, 1), np.bool_)
        self.size = 0
        self.index = 0

    def add(self, o, a, r, no, d):
        i = self.index
        self.obs[i] = o
        self.act[i] = a
        self.rew[i] = r
        self.nobs[i] = no
        self.done[i] = d
        self.index = (i + 1) % self.capacity
        self.size = min(self.size + 1, self.capacity)

    def sample(self, rng, n):
        idx = rng.integers(0, self.size, n)
        return (torch.from_numpy(self.obs[idx]), torch.from_numpy(self.act[idx]), torch.from_numpy(self.rew[idx]),
                torch.from_numpy(self.nobs[idx]), torch.from_numpy(self.done[idx].astype(np.float32)))

    def to_dict(self):
        return {
            "capacity": self.capacity,
            "obs_dim": self.obs_dim,
            "action_dim": self.act_dim,
            "size": self.size,
            "index": self.index,
            "observations": torch.from_numpy(self.obs.copy()),
            "actions": torch.from_numpy(self.act.copy()),
            "rewards": torch.from_numpy(self.rew.copy()),
            "next_observations": torch.from_numpy(self.nobs.copy()),
            "dones": torch.from_numpy(self.done.copy()),
        }


# ---------------------------------------------------------------------------
# Training (TD3 and SAC). Returns the networks, the buffer and the log rows.


def soft_update(target, src, tau):
    with torch.no_grad():
        for pt, p in zip(target.parameters(), src.parameters()):
            pt.mul_(1 - tau).add_(p, alpha=tau)


def evaluate(actor, seed, num_steps):
    env = Pendulum(seed)
    o = env.reset()
    rewards = []
    with torch.no_grad():
        for _ in range(num_steps):
            a = actor(torch.from_numpy(o)[None])[0].numpy()
            o, r, term, trunc = env.step(a[0])
            rewards.append(r)
            if term or trunc:
                o = env.reset()
    rewards = np.array(rewards)
    return {"episodes": 1, "reward_mean": float(rewards.mean()), "reward_sum": float(rewards.sum()),
            "reward_max": float(rewards.max()), "reward_min": float(rewards.min())}


def train(cfg, seed, algo, hidden, total_steps, capacity, clock_per_step=0.004, clock_per_update=0.011,
          verbose=False):
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    env = Pendulum(seed + 1)
    obs_dim, act_dim = 3, 1
    sac = algo == "sac"
    actor = Actor(obs_dim, act_dim, hidden, sac=sac)
    critic1 = Critic(obs_dim, act_dim, hidden)
    critic2 = Critic(obs_dim, act_dim, hidden)
    actor_t = copy.deepcopy(actor)
    critic1_t = copy.deepcopy(critic1)
    critic2_t = copy.deepcopy(critic2)
    a_lr = cfg["actor"]["lr"]
    c_lr = cfg["critic"]["lr"]
    opt_a = torch.optim.Adam(actor.parameters(), lr=a_lr)
    opt_c1 = torch.optim.Adam(critic1.parameters(), lr=c_lr)
    opt_c2 = torch.optim.Adam(critic2.parameters(), lr=c_lr)
    log_alpha = torch.zeros((), requires_grad=True)
    opt_alpha = torch.optim.Adam([log_alpha], lr=cfg["algorithm"].get("alpha_lr", 3e-4))
    target_entropy = -float(act_dim)

    A = cfg["algorithm"]
    T = cfg["training"]
    gamma, tau = A["gamma"], A["tau"]
    policy_freq = A.get("policy_freq", 1)
    batch = A.get("batch_size", 256)
    explore = cfg["exploration"]["steps"]
    train_start = T["train_start_step"]
    sync_start = T["sync_start_step"]
    log_freq = T["log_frequency"]
    eval_freq = cfg["evaluation"]["frequency"]
    eval_steps = cfg["evaluation"]["num_steps"]
    max_a = 2.0

    buf = Buffer(capacity, obs_dim, act_dim)
    records = []
    console = []
    clock = 0.0
    total_it = 0
    o = env.reset()
    episode = 0
    ep_ret = 0.0
    last = {}
    for step in range(1, total_steps + 1):
        clock += clock_per_step
        if step <= explore:
            a = rng.uniform(-max_a, max_a, size=(act_dim,)).astype(np.float32)
        else:
            with torch.no_grad():
                if sac:
                    a = actor.sample(torch.from_numpy(o)[None])[0][0].numpy()
                else:
                    a = actor(torch.from_numpy(o)[None])[0].numpy()
                    a = np.clip(a + rng.normal(0, cfg["exploration"].get("noise_std", 0.1) * max_a, size=a.shape),
                                -max_a, max_a).astype(np.float32)
        no, r, term, trunc = env.step(a[0])
        ep_ret += r
        buf.add(o, a, r, no, term or trunc)
        o = no
        reset_step = False
        if term or trunc:
            episode += 1
            if verbose and episode % 10 == 0:
                print(f"  step {step} episode {episode} return {ep_ret:.1f}", file=sys.stderr)
            console.append((clock, f"INFO Episode {episode} finished at step {step}: return={ep_ret:.2f}"))
            ep_ret = 0.0
            o = env.reset()
            reset_step = True

        row = None
        if step >= train_start and not reset_step:
            clock += clock_per_update
            total_it += 1
            s, act, rew, ns, d = buf.sample(rng, batch)
            row = {}
            if sac:
                with torch.no_grad():
                    alpha = log_alpha.exp()
                    na, nlogp = actor.sample(ns)
                    tq = torch.min(critic1_t(ns, na), critic2_t(ns, na)) - alpha * nlogp
                    y = rew + gamma * (1 - d) * tq
            else:
                with torch.no_grad():
                    noise = (torch.randn_like(act) * A["policy_noise"] * max_a).clamp(
                        -A["noise_clip"] * max_a, A["noise_clip"] * max_a)
                    na = (actor_t(ns) + noise).clamp(-max_a, max_a)
                    y = rew + gamma * (1 - d) * torch.min(critic1_t(ns, na), critic2_t(ns, na))
            l1 = F.mse_loss(critic1(s, act), y)
            l2 = F.mse_loss(critic2(s, act), y)
            opt_c1.zero_grad()
            l1.backward()
            opt_c1.step()
            opt_c2.zero_grad()
            l2.backward()
            opt_c2.step()
            row["loss_q1"] = float(l1)
            row["loss_q2"] = float(l2)
            if sac:
                pa, logp = actor.sample(s)
                alpha = log_alpha.exp().detach()
                al = (alpha * logp - torch.min(critic1(s, pa), critic2(s, pa))).mean()
                opt_a.zero_grad()
                al.backward()
                opt_a.step()
                alpha_loss = -(log_alpha * (logp.detach() + target_entropy)).mean()
                opt_alpha.zero_grad()
                alpha_loss.backward()
                opt_alpha.step()
                row["actor_loss"] = float(al)
                row["alpha_loss"] = float(alpha_loss)
                row["alpha"] = float(log_alpha.exp())
                row["entropy"] = float(-logp.mean())
                if step >= sync_start:
                    soft_update(critic1_t, critic1, tau)
                    soft_update(critic2_t, critic2, tau)
            elif total_it % policy_freq == 0:
                al = -critic1(s, actor(s)).mean()
                opt_a.zero_grad()
                al.backward()
                opt_a.step()
                row["actor_loss"] = float(al)
                if step >= sync_start:
                    soft_update(actor_t, actor, tau)
                    soft_update(critic1_t, critic1, tau)
                    soft_update(critic2_t, critic2, tau)
            last = row
        if step % log_freq == 0 and step >= train_start and last:
            rec = {"source": "train", "event": "step", "step": step, "buffer_size": buf.size,
                   "time": round(clock, 3)}
            rec.update(row if row is not None else {k: v for k, v in last.items() if k != "actor_loss"})
            records.append(rec)
        if step % eval_freq == 0:
            ev = evaluate(actor, 1000 + step, eval_steps)
            clock += eval_steps * 0.0003
            rec = {"source": "train", "event": "evaluation", "step": step, "time": round(clock, 3)}
            rec.update(ev)
            records.append(rec)
            console.append((clock, f"INFO Evaluation at step {step}: reward_mean={ev['reward_mean']:.4f} "
                                   f"reward_sum={ev['reward_sum']:.2f}"))
            if verbose:
                print(f"  eval step {step}: sum {ev['reward_sum']:.1f}", file=sys.stderr)
    ev = evaluate(actor, 99, eval_steps)
    rec = {"source": "train", "event": "final_evaluation", "step": total_steps, "time": round(clock, 3)}
    rec.update(ev)
    records.append(rec)
    console.append((clock, f"INFO Final evaluation: reward_mean={ev['reward_mean']:.4f} reward_sum={ev['reward_sum']:.2f}"))
    nets = {"actor": actor, "actor_target": actor_t, "critic1": critic1, "critic2": critic2,
            "critic1_target": critic1_t, "critic2_target": critic2_t}
    return nets, buf, records, console, log_alpha.detach().clone(), opt_alpha, ev


# ---------------------------------------------------------------------------
# Writers.


def base_config(name, algo, hidden, steps, capacity, explore, train_start, sync_start, log_dir, eval_freq):
    cfg = OrderedDict()
    cfg["experiment_name"] = name
    cfg["seed"] = 42
    cfg["device"] = "cpu"
    cfg["env"] = {"name": "Pendulum-v1", "max_episode_steps": 200, "render_mode": None}
    alg = {"type": algo, "gamma": 0.98, "tau": 0.005}
    if algo == "td3":
        alg.update({"policy_freq": 2, "policy_noise": 0.1, "noise_clip": 0.25})
    else:
        alg.update({"alpha_lr": 0.0003, "initial_alpha": 1.0, "autotune_alpha": True})
    alg["batch_size"] = 256
    cfg["algorithm"] = alg
    cfg["network"] = {"type": "mlp", "hidden_sizes": list(hidden), "activation": "relu"}
    cfg["actor"] = {"type": "mlp", "hidden_sizes": list(hidden), "lr": 0.001}
    cfg["critic"] = {"type": "mlp", "hidden_sizes": list(hidden), "lr": 0.001}
    cfg["exploration"] = {"type": "random", "steps": explore, "noise_std": 0.1}
    cfg["training"] = {"train_start_step": train_start, "sync_start_step": sync_start, "num_steps": steps,
                       "log_frequency": 100, "log_dir": log_dir, "log_file": "train.jsonl",
                       "save_frequency": 5000}
    cfg["evaluation"] = {"frequency": eval_freq, "num_steps": 200, "deterministic": True}
    cfg["buffer"] = {"capacity": capacity, "pin_memory": False}
    # unknown keys, as real configs grow over time
    cfg["logging"] = {"console": True, "level": "INFO", "tensorboard": False}
    cfg["git_commit"] = "3f2c9a1e"
    cfg["notes"] = "fixture generated by tools/make_fixtures.py"
    return cfg


def config_to_plain(cfg):
    return {k: (dict(v) if isinstance(v, dict) else v) for k, v in cfg.items()}


def write_config(run_dir, cfg):
    with open(os.path.join(run_dir, "config.yaml"), "w") as f:
        yaml.safe_dump(config_to_plain(cfg), f, sort_keys=False, default_flow_style=False)


def write_console(run_dir, name, start, console):
    # start: (Y, M, D, h, m, s)
    import datetime
    t0 = datetime.datetime(*start)
    lines = [f"[{t0.strftime('%Y-%m-%d %H:%M:%S')},000] INFO Experiment {name} started, config saved"]
    for clock, msg in console:
        t = t0 + datetime.timedelta(seconds=clock)
        lines.append(f"[{t.strftime('%Y-%m-%d %H:%M:%S')},{t.microsecond // 1000:03d}] {msg}")
    t = t0 + datetime.timedelta(seconds=console[-1][0] + 0.5 if console else 0)
    lines.append(f"[{t.strftime('%Y-%m-%d %H:%M:%S')},{t.microsecond // 1000:03d}] INFO Models and replay buffer saved")
    with open(os.path.join(run_dir, "console.log"), "w") as f:
        f.write("\n".join(lines) + "\n")


def write_jsonl(path, records, extra_lines=None):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        for r in records:
            f.write(json.dumps(r) + "\n")


def save_archive(obj, path, legacy=False):
    """torch.save through a file object: the zip member prefix is 'archive/'."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    if legacy:
        torch.save(obj, path, _use_new_zipfile_serialization=False)
        return
    b = io.BytesIO()
    torch.save(obj, b)
    with open(path, "wb") as f:
        f.write(b.getvalue())


def save_path(obj, path):
    """torch.save to a path: torch 1.13 names the zip members after the file's stem."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    torch.save(obj, path)


def wrapped(sd, hidden, box, obs_dim=3, act_dim=1):
    return {"state_dict": sd, "_init_kwargs": {"obs_dim": obs_dim, "action_dim": act_dim,
                                               "hidden_sizes": tuple(hidden), "action_space": box}}


def make_view(sd, key, offset):
    """Replace sd[key] (1-D) by a view at `offset` into a larger storage."""
    t = sd[key]
    n = t.numel()
    big = torch.full((n + offset + 7,), -123.0, dtype=t.dtype)
    big[offset:offset + n] = t
    sd[key] = big[offset:offset + n]
    assert sd[key].storage_offset() == offset


def make_transposed(sd, key):
    """Replace sd[key] (2-D) by a non-contiguous tensor with the same values (strides (1, rows))."""
    t = sd[key]
    sd[key] = t.t().contiguous().t()
    assert not sd[key].is_contiguous()


# ---------------------------------------------------------------------------
# Expected values (computed from the files as loaded back by torch.load).


def linears(sd, prefix):
    ws = []
    i = 0
    idx = sorted({int(k[len(prefix):].split(".")[0]) for k in sd if k.startswith(prefix) and k.endswith(".weight")})
    for i in idx:
        ws.append((f"{prefix}{i}", sd[f"{prefix}{i}.weight"].float(), sd[f"{prefix}{i}.bias"].float()))
    return ws


def mlp_fwd(layers, x):
    for j, (_, w, b) in enumerate(layers):
        x = F.linear(x, w, b)
        if j < len(layers) - 1:
            x = F.relu(x)
    return x


class LoadedActor:
    def __init__(self, layers, low, high, act_dim=1):
        self.layers, self.low, self.high, self.act_dim = layers, low, high, act_dim

    def __call__(self, obs):
        with torch.no_grad():
            u = mlp_fwd(self.layers, obs)[:, : self.act_dim]
            return self.low + (torch.tanh(u) + 1) * (self.high - self.low) / 2


class LoadedCritic:
    def __init__(self, layers):
        self.layers = layers

    def __call__(self, obs, act):
        with torch.no_grad():
            return mlp_fwd(self.layers, torch.cat([obs, act], 1))


def load_net(path, kind):
    obj = torch.load(path)
    if isinstance(obj, dict) and "state_dict" in obj:
        sd = obj["state_dict"]
        prefix = "net_body." if kind == "actor" else "net."
        box = obj["_init_kwargs"]["action_space"]
        low, high = box.low, box.high
    else:
        sd = obj
        prefix = "_network.net."
        low = sd.get("_scaler.low", torch.tensor([-2.0]))
        high = sd.get("_scaler.high", torch.tensor([2.0]))
    layers = linears(sd, prefix)
    if kind == "actor":
        return LoadedActor(layers, low.float(), high.float()), sd, layers
    return LoadedCritic(layers), sd, layers


def tensor_record(t):
    c = t.detach().contiguous()
    raw = c.numpy().tobytes() if c.dim() > 0 else c.reshape(1).numpy().tobytes()
    return {"shape": list(t.shape), "dtype": str(t.dtype).replace("torch.", ""),
            "sha256": hashlib.sha256(raw).hexdigest(),
            "storage_offset": t.storage_offset(), "stride": list(t.stride()),
            "storage_numel": t.storage().size()}


def walk_tensors(obj, path, out):
    if isinstance(obj, torch.Tensor):
        out[path] = tensor_record(obj)
    elif isinstance(obj, dict):
        for k, v in obj.items():
            walk_tensors(v, f"{path}/{k}" if path else str(k), out)
    elif isinstance(obj, (list, tuple)):
        for i, v in enumerate(obj):
            walk_tensors(v, f"{path}/{i}" if path else str(i), out)
    elif hasattr(obj, "__dict__"):
        for k, v in vars(obj).items():
            walk_tensors(v, f"{path}/{k}" if path else str(k), out)


def member_prefix(path):
    import zipfile
    if not zipfile.is_zipfile(path):
        return None
    names = zipfile.ZipFile(path).namelist()
    return names[0].split("/")[0] + "/"


def stats(x):
    x = np.asarray(x, dtype=np.float64)
    return {"mean": float(x.mean()), "std": float(x.std()), "min": float(x.min()), "max": float(x.max())}


def write_expected(run_dir, exp_dir, gen, algo, grid_n, notes):
    os.makedirs(exp_dir, exist_ok=True)
    if gen == 1:
        mdir, ext = "models", ".pth"
    else:
        mdir, ext = f"agent_{algo}", ".pt"
    names = ["actor", "critic1", "critic2", "critic1_target", "critic2_target"]
    if algo == "td3":
        names.insert(1, "actor_target")
    nets, sds, lays = {}, {}, {}
    tensors = {}
    prefixes = {}
    for nm in names:
        p = os.path.join(run_dir, mdir, nm + ext)
        kind = "actor" if nm.startswith("actor") else "critic"
        nets[nm], sds[nm], lays[nm] = load_net(p, kind)
        rel = os.path.relpath(p, run_dir)
        t = {}
        walk_tensors(torch.load(p), "", t)
        tensors[rel] = t
        prefixes[rel] = member_prefix(p)
    for extra in ["log_alpha.pt", "log_alpha_optimizer.pt"]:
        p = os.path.join(run_dir, mdir, extra)
        if os.path.exists(p):
            t = {}
            walk_tensors(torch.load(p), "", t)
            tensors[os.path.relpath(p, run_dir)] = t
            prefixes[os.path.relpath(p, run_dir)] = member_prefix(p)
    bpath = os.path.join(run_dir, "data", "replay_buffer.pth")
    buf = torch.load(bpath)
    t = {}
    walk_tensors(buf, "", t)
    tensors["data/replay_buffer.pth"] = t
    prefixes["data/replay_buffer.pth"] = member_prefix(bpath)
    with open(os.path.join(exp_dir, "tensors.json"), "w") as f:
        json.dump(tensors, f, indent=1)

    actor = nets["actor"]
    c1, c2 = nets["critic1"], nets["critic2"]
    c1t, c2t = nets["critic1_target"], nets["critic2_target"]

    # 1-D policy
    th = np.linspace(-np.pi, np.pi, 500)
    obs1 = torch.tensor(np.stack([np.cos(th), np.sin(th), np.zeros_like(th)], axis=1), dtype=torch.float32)
    np.save(os.path.join(exp_dir, "policy_1d.npy"), f32(actor(obs1).numpy().flatten()))
    # grids
    og = grid_obs(grid_n)
    with torch.no_grad():
        ag = actor(og)
        np.save(os.path.join(exp_dir, "policy_grid.npy"), f32(ag.numpy().reshape(grid_n, grid_n)))
        if "actor_target" in nets:
            tg = nets["actor_target"](og)
            np.save(os.path.join(exp_dir, "target_grid.npy"), f32(tg.numpy().reshape(grid_n, grid_n)))
            np.save(os.path.join(exp_dir, "policy_diff.npy"),
                    f32((ag.numpy() - tg.numpy()).reshape(grid_n, grid_n)))
        q1g, q2g = c1(og, ag), c2(og, ag)
        np.save(os.path.join(exp_dir, "q1_grid.npy"), f32(q1g.numpy().reshape(grid_n, grid_n)))
        np.save(os.path.join(exp_dir, "q2_grid.npy"), f32(q2g.numpy().reshape(grid_n, grid_n)))
        np.save(os.path.join(exp_dir, "q_grid.npy"), f32(torch.min(q1g, q2g).numpy().reshape(grid_n, grid_n)))
        np.save(os.path.join(exp_dir, "q1_target_grid.npy"), f32(c1t(og, ag).numpy().reshape(grid_n, grid_n)))
        np.save(os.path.join(exp_dir, "q2_target_grid.npy"), f32(c2t(og, ag).numpy().reshape(grid_n, grid_n)))

        n = int(buf["size"])
        bo = buf["observations"][:n]
        ba = buf["actions"][:n]
        qb = torch.min(c1(bo, ba), c2(bo, ba)).numpy().flatten()
        pa = actor(bo)
        qp = torch.min(c1(bo, pa), c2(bo, pa)).numpy().flatten()
    np.save(os.path.join(exp_dir, "q_buffer.npy"), f32(qb))
    np.save(os.path.join(exp_dir, "q_policy.npy"), f32(qp))
    with open(os.path.join(exp_dir, "q.json"), "w") as f:
        json.dump({"q_buffer": stats(qb), "q_policy": stats(qp)}, f, indent=1)

    # buffer stats (ANALYSES #14)
    obs_np = bo.numpy()
    act_np = ba.numpy()
    rew_np = buf["rewards"][:n].numpy()
    dn = buf["dones"][:n].numpy()
    bstats = {"size": n, "capacity": int(buf["capacity"]), "index": int(buf["index"]),
              "obs": [dict(name=nm, **stats(obs_np[:, i])) for i, nm in enumerate(["cos_theta", "sin_theta", "theta_dot"])],
              "action": [stats(act_np[:, i]) for i in range(act_np.shape[1])],
              "reward": stats(rew_np),
              "dones_count": int(dn.sum()), "dones_percent": float(dn.mean() * 100)}
    with open(os.path.join(exp_dir, "buffer.json"), "w") as f:
        json.dump(bstats, f, indent=1)

    # coverage (ANALYSES #17): as matplotlib hist2d -> np.histogram2d(x, y, bins=100)
    theta_buf = np.arctan2(obs_np[:, 1], obs_np[:, 0])
    h, xe, ye = np.histogram2d(np.degrees(theta_buf), obs_np[:, 2], bins=100)
    np.save(os.path.join(exp_dir, "coverage.npy"), f32(h))
    cov_edges = {"x_edges_theta_deg": [float(v) for v in xe], "y_edges_theta_dot": [float(v) for v in ye]}

    # L2 actor vs actor_target
    if "actor_target" in nets:
        l2 = {}
        total = 0.0
        for (name, w, b), (_, wt, bt) in zip(lays["actor"], lays["actor_target"]):
            for suffix, p, pt in (("weight", w, wt), ("bias", b, bt)):
                l2[f"{name}.{suffix}"] = (p - pt).norm().item()
                total += (p - pt).pow(2).sum().item()
        with open(os.path.join(exp_dir, "l2.json"), "w") as f:
            json.dump({"per_parameter": l2, "total": total ** 0.5}, f, indent=1)

    # weight histograms (ANALYSES #9)
    hists = {}
    for nm in ["actor", "critic1"]:
        hl = []
        for name, w, b in lays[nm]:
            wc, we = np.histogram(w.numpy().flatten(), bins=80)
            bc, be = np.histogram(b.numpy().flatten(), bins=40)
            hl.append({"layer": name, "in": int(w.shape[1]), "out": int(w.shape[0]),
                       "weight_counts": wc.tolist(), "weight_edges": [float(v) for v in we],
                       "bias_counts": bc.tolist(), "bias_edges": [float(v) for v in be]})
        hists[nm] = hl
    with open(os.path.join(exp_dir, "hist.json"), "w") as f:
        json.dump(hists, f)

    def nparams(layers):
        return int(sum(w.numel() + b.numel() for _, w, b in layers))

    meta = {
        "run": os.path.basename(run_dir.rstrip("/")),
        "generation": gen, "algorithm": algo,
        "grid_n": grid_n, "theta_range": [-math.pi, math.pi], "thetadot_range": [-8.0, 8.0],
        "policy_1d_points": 500,
        "param_counts": {nm: nparams(lays[nm]) for nm in names},
        "widths": {nm: [int(lays[nm][0][1].shape[1])] + [int(w.shape[0]) for _, w, _ in lays[nm]] for nm in names},
        "buffer": {"size": n, "capacity": int(buf["capacity"]), "index": int(buf["index"])},
        "member_prefix": prefixes,
        "definitions": {
            "policy_grid": "actor(obs) on the grid, shape (N,N), row i = thetadot_i, column j = theta_j",
            "target_grid": "actor_target(obs) on the grid",
            "policy_diff": "policy_grid - target_grid",
            "q1_grid": "critic1(obs, actor(obs))", "q2_grid": "critic2(obs, actor(obs))",
            "q_grid": "min(q1_grid, q2_grid)",
            "q1_target_grid": "critic1_target(obs, actor(obs)) (the online actor's action)",
            "q2_target_grid": "critic2_target(obs, actor(obs))",
            "q_buffer": "min(critic1, critic2) at buffer (obs, action), rows 0..size-1 in storage order",
            "q_policy": "min(critic1, critic2) at buffer (obs, actor(obs))",
            "coverage": "np.histogram2d(degrees(arctan2(sin, cos)) computed in float32, thetadot, bins=100): axis 0 = theta",
            "buffer_json": "statistics in float64 over float32 data, std ddof 0",
            "tensors_json": "path = keys joined by '/', Box attributes as action_space/low; sha256 of contiguous little-endian bytes; '' = the file is one tensor",
        },
        "coverage_edges": cov_edges,
    }
    meta.update(notes)
    with open(os.path.join(exp_dir, "meta.json"), "w") as f:
        json.dump(meta, f, indent=1)

    # log summary as the notebook's load_jsonl sees it
    cfg = yaml.safe_load(open(os.path.join(run_dir, "config.yaml")))
    lp = os.path.join(run_dir, cfg["training"]["log_dir"], cfg["training"]["log_file"])
    steps, evals, finals, skipped, other = [], [], [], 0, 0
    for line in open(lp):
        line = line.strip()
        if not line:
            continue
        try:
            r = json.loads(line)
        except json.JSONDecodeError:
            skipped += 1
            continue
        if not isinstance(r, dict):
            skipped += 1  # valid JSON but not an object (the notebook would crash on it)
            continue
        if r.get("source") != "train":
            other += 1
            continue
        if r.get("event") == "step":
            steps.append(r)
        elif r.get("event") == "evaluation":
            evals.append(r)
        elif r.get("event") == "final_evaluation":
            finals.append(r)
        else:
            other += 1
    summ = {"step_records": len(steps), "evaluation_records": len(evals), "final_evaluation_records": len(finals),
            "lines_skipped": skipped, "other_records": other,
            "step_range": [steps[0]["step"], steps[-1]["step"]] if steps else None,
            "evaluation_range": [evals[0]["step"], evals[-1]["step"]] if evals else None,
            "actor_loss_rows": sum(1 for r in steps if "actor_loss" in r)}
    with open(os.path.join(exp_dir, "log_summary.json"), "w") as f:
        json.dump(summ, f, indent=1)
    write_parity(run_dir, exp_dir)
    return meta


# Fields of the notebook's curves (ANALYSES #2-7): evaluation records give
# the reward band and sum, step records the losses and the buffer size.
CURVE_FIELDS = {"evaluation": ["reward_mean", "reward_min", "reward_max", "reward_sum"],
                "step": ["loss_q1", "loss_q2", "actor_loss", "buffer_size"]}


def read_log_records(run_dir):
    """The log's train records as the notebook's load_jsonl keeps them (json.loads reads NaN and Infinity)."""
    cfg = yaml.safe_load(open(os.path.join(run_dir, "config.yaml")))
    lp = os.path.join(run_dir, cfg["training"]["log_dir"], cfg["training"]["log_file"])
    out = {"step": [], "evaluation": []}
    for line in open(lp):
        try:
            r = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(r, dict) and r.get("source") == "train" and r.get("event") in out:
            out[r["event"]].append(r)
    return cfg, out


def np_hist(values, bins):
    counts, edges = np.histogram(np.asarray(values, dtype=np.float32), bins=bins)
    return {"counts": [int(c) for c in counts], "edges": [float(e) for e in edges]}


def write_parity(run_dir, exp_dir):
    """Expected values of the analyses that write no tensors of their own: the
    config part of the run summary (#1), the curves (#2-7), the buffer
    histograms (#15), the phase portrait's density raster (#16) and the Q
    histograms (#19). Reads only the committed run
    and expected/q_*.npy, so it can be rerun without retraining
    (--parity-only) and never rewrites a fixture input."""
    cfg, recs = read_log_records(run_dir)
    # #1: the config fields the notebook prints.
    summary = {"experiment_name": cfg["experiment_name"], "env": cfg["env"]["name"],
               "algorithm": cfg["algorithm"]["type"], "exploration_steps": cfg["exploration"]["steps"],
               "train_start_step": cfg["training"]["train_start_step"],
               "evaluation_frequency": cfg["evaluation"]["frequency"],
               "log_frequency": cfg["training"]["log_frequency"]}
    with open(os.path.join(exp_dir, "config_summary.json"), "w") as f:
        json.dump(summary, f, indent=1)
    # #2-7: one (n, 2) float32 array [step, value] per field, over the records
    # that have the field, in log order; NaN and ±Inf kept as logged.
    for event, fields in CURVE_FIELDS.items():
        for field in fields:
            rows = [[r["step"], r[field]] for r in recs[event] if field in r]
            arr = f32(rows).reshape(len(rows), 2)
            np.save(os.path.join(exp_dir, f"curve_{event}_{field}.npy"), arr)
    # #15: 100-bin histograms of cos, sin, action and reward over the first size rows.
    buf = torch.load(os.path.join(run_dir, "data", "replay_buffer.pth"))
    n = int(buf["size"])
    obs = buf["observations"][:n].numpy()
    bh = {"cos_theta": np_hist(obs[:, 0], 100), "sin_theta": np_hist(obs[:, 1], 100),
          "action": np_hist(buf["actions"][:n].numpy()[:, 0], 100),
          "reward": np_hist(buf["rewards"][:n].numpy().flatten(), 100)}
    with open(os.path.join(exp_dir, "buffer_hist.json"), "w") as f:
        json.dump(bh, f, indent=1)
    # #16: the phase portrait's density raster: mean action per cell of a
    # 100x100 grid over theta in [-180, 180] degrees x thetadot in [-8, 8],
    # theta computed in float32 as the notebook does; NaN for empty cells;
    # rows = thetadot (row 0 at -8), columns = theta.
    th = np.degrees(np.arctan2(obs[:, 1], obs[:, 0])).astype(np.float32)
    act = buf["actions"][:n].numpy()[:, 0].astype(np.float64)
    rng = [[-180.0, 180.0], [-8.0, 8.0]]
    cnt, _, _ = np.histogram2d(th, obs[:, 2], bins=100, range=rng)
    tot, _, _ = np.histogram2d(th, obs[:, 2], bins=100, range=rng, weights=act)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(cnt > 0, tot / cnt, np.nan)
    np.save(os.path.join(exp_dir, "phase_mean.npy"), f32(mean.T))
    # #19: 100-bin histograms of both Q arrays, as torch computed them.
    qh = {k: np_hist(np.load(os.path.join(exp_dir, k + ".npy")), 100) for k in ("q_buffer", "q_policy")}
    with open(os.path.join(exp_dir, "q_hist.json"), "w") as f:
        json.dump(qh, f, indent=1)


# ---------------------------------------------------------------------------
# Fixtures.

DEMO = "2026-02-14_13-38-10_pendulum-v1"
GEN2 = "2026-06-20_09-15-00_pendulum-gen2"
LEGACY = "2026-03-01_10-00-00_pendulum-legacy"
SAC = "2026-07-01_08-00-00_pendulum-sac"


def fresh(path):
    if os.path.exists(path):
        shutil.rmtree(path)
    os.makedirs(path)


def fixture_demo(out, steps):
    run = os.path.join(out, "runs", DEMO)
    fresh(run)
    hidden = (256, 256)
    cap = 2 * steps
    cfg = base_config("pendulum-v1", "td3", hidden, steps, cap, 2000, 2000, 3000, "train_logs", 500)
    print(f"[demo] training TD3 {hidden} for {steps} steps", file=sys.stderr)
    nets, buf, records, console, _, _, final = train(cfg, 42, "td3", hidden, steps, cap, verbose=True)
    write_config(run, cfg)
    write_console(run, "pendulum-v1", (2026, 2, 14, 13, 38, 10), console)
    write_jsonl(os.path.join(run, "train_logs", "train.jsonl"), records)
    box = BOX_GEN1(torch.tensor([-2.0]), torch.tensor([2.0]))
    views = {}
    for nm, net in nets.items():
        kind = "actor" if nm.startswith("actor") else "critic"
        sd = gen1_state(net, kind)
        if nm == "actor":
            make_view(sd, "net_body.0.bias", 5)
            make_transposed(sd, "net_body.2.weight")
            views["models/actor.pth"] = {
                "state_dict/net_body.0.bias": "view: storage of 268 floats, storage_offset 5",
                "state_dict/net_body.2.weight": "non-contiguous: strides (1, 256) (a transposed copy, transposed back)"}
        save_archive(wrapped(sd, hidden, box), os.path.join(run, "models", nm + ".pth"))
    save_archive(buf.to_dict(), os.path.join(run, "data", "replay_buffer.pth"))
    meta = write_expected(run, os.path.join(out, "expected", DEMO), 1, "td3", 200,
                          {"views": views, "final_evaluation": final})
    print(f"[demo] final eval reward_sum {final['reward_sum']:.2f}", file=sys.stderr)
    return meta


def fixture_gen2(out):
    run = os.path.join(out, "runs", GEN2)
    fresh(run)
    hidden = (400, 300)
    cfg = base_config("pendulum-gen2", "td3", hidden, 1500, 1000, 1000, 1000, 1200, ".", 500)
    print("[gen2] training", file=sys.stderr)
    nets, buf, records, console, _, _, final = train(cfg, 7, "td3", hidden, 1500, 1000)
    assert buf.size == 1000 and buf.index == 500, (buf.size, buf.index)
    write_config(run, cfg)
    write_console(run, "pendulum-gen2", (2026, 6, 20, 9, 15, 0), console)
    write_jsonl(os.path.join(run, "train.jsonl"), records)
    for nm, net in nets.items():
        kind = "actor" if nm.startswith("actor") else "critic"
        save_path(gen2_state(net, kind), os.path.join(run, "agent_td3", nm + ".pt"))
    save_path(buf.to_dict(), os.path.join(run, "data", "replay_buffer.pth"))
    return write_expected(run, os.path.join(out, "expected", GEN2), 2, "td3", 64, {"final_evaluation": final})


def corrupt_log(records):
    """Legacy log: NaN/Infinity losses, garbage, blank line, other sources, partial last line."""
    lines = []
    k = 0
    for r in records:
        if r["event"] == "step":
            k += 1
            if k == 3:
                r["loss_q1"] = float("nan")
            if k == 4:
                r["loss_q2"] = float("inf")
            if k == 5 and "actor_loss" in r:
                r["actor_loss"] = float("-inf")
            if k == 5 and "actor_loss" not in r:
                r["loss_q1"] = float("-inf")
        lines.append(json.dumps(r))
        if k == 2 and r["event"] == "step":
            lines.append('{"source": "env", "event": "reset", "step": %d, "episode": 3}' % r["step"])
            lines.append("this is not json at all")
            lines.append("")
            lines.append('{"source": "train", "event": "checkpoint", "step": %d, "path": "models/"}' % r["step"])
            lines.append('{"source": "train", "event": "step", "step": ')  # garbage: broken object
            lines.append('[1, 2, 3]')
        if k == 6 and r["event"] == "step":
            lines.append('{"source": "eval_env", "event": "evaluation", "step": %d, "reward_mean": -1.0}' % r["step"])
    last = json.dumps({"source": "train", "event": "step", "step": records[-1]["step"] + 100,
                       "buffer_size": records[-1]["step"] + 100, "time": 99.0, "loss_q1": 0.5, "loss_q2": 0.5})
    return "\n".join(lines) + "\n" + last[: len(last) // 2]


def fixture_legacy(out):
    run = os.path.join(out, "runs", LEGACY)
    fresh(run)
    hidden = (64, 64, 64)
    cfg = base_config("pendulum-legacy", "td3", hidden, 2000, 4000, 1000, 1000, 1200, "train_logs", 500)
    print("[legacy] training", file=sys.stderr)
    nets, buf, records, console, _, _, final = train(cfg, 11, "td3", hidden, 2000, 4000)
    write_config(run, cfg)
    write_console(run, "pendulum-legacy", (2026, 3, 1, 10, 0, 0), console)
    os.makedirs(os.path.join(run, "train_logs"))
    with open(os.path.join(run, "train_logs", "train.jsonl"), "w") as f:
        f.write(corrupt_log(records))
    box = BOX_LEGACY(torch.tensor([-2.0]), torch.tensor([2.0]))
    views = {}
    for nm, net in nets.items():
        kind = "actor" if nm.startswith("actor") else "critic"
        sd = gen1_state(net, kind)
        if nm == "critic1":
            make_view(sd, "net.2.bias", 3)
            views["models/critic1.pth"] = {"state_dict/net.2.bias": "view: storage of 74 floats, storage_offset 3"}
        save_archive(wrapped(sd, hidden, box), os.path.join(run, "models", nm + ".pth"), legacy=True)
    save_archive(buf.to_dict(), os.path.join(run, "data", "replay_buffer.pth"), legacy=True)
    return write_expected(run, os.path.join(out, "expected", LEGACY), 1, "td3", 64,
                          {"views": views, "final_evaluation": final, "format": "legacy non-zip torch.save"})


def fixture_sac(out):
    run = os.path.join(out, "runs", SAC)
    fresh(run)
    hidden = (256, 256)
    cfg = base_config("pendulum-sac", "sac", hidden, 1600, 3000, 1000, 1000, 1000, "train_logs", 500)
    print("[sac] training", file=sys.stderr)
    nets, buf, records, console, log_alpha, opt_alpha, final = train(cfg, 13, "sac", hidden, 1600, 3000)
    write_config(run, cfg)
    write_console(run, "pendulum-sac", (2026, 7, 1, 8, 0, 0), console)
    write_jsonl(os.path.join(run, "train_logs", "train.jsonl"), records)
    for nm, net in nets.items():
        if nm == "actor_target":
            continue
        kind = "actor" if nm.startswith("actor") else "critic"
        save_path(gen2_state(net, kind), os.path.join(run, "agent_sac", nm + ".pt"))
    save_path(log_alpha, os.path.join(run, "agent_sac", "log_alpha.pt"))
    save_path(opt_alpha.state_dict(), os.path.join(run, "agent_sac", "log_alpha_optimizer.pt"))
    save_path(buf.to_dict(), os.path.join(run, "data", "replay_buffer.pth"))
    return write_expected(run, os.path.join(out, "expected", SAC), 2, "sac", 64,
                          {"final_evaluation": final, "log_alpha": float(log_alpha)})


# ---------------------------------------------------------------------------
# Hostile and broken files.


class _SystemCall:
    def __reduce__(self):
        return (os.system, ("echo pwned > /tmp/pwned",))


class _EvalCall:
    def __reduce__(self):
        return (eval, ("__import__('os').system('echo pwned-eval > /tmp/pwned')",))


def fixture_bad(out):
    import pickle
    import zipfile
    bad = os.path.join(out, "bad")
    fresh(bad)
    demo_buf = os.path.join(out, "runs", DEMO, "data", "replay_buffer.pth")
    entries = []
    # 9. critic whose input size does not match obs+act
    torch.manual_seed(5)
    crit = Critic(4, 1, (32, 32))  # input 5 = obs 3 + act 1 + 1 extra
    box = BOX_GEN1(torch.tensor([-2.0]), torch.tensor([2.0]))
    save_archive(wrapped(gen1_state(crit, "critic"), (32, 32), box), os.path.join(bad, "critic_input5.pth"))
    torch.manual_seed(6)
    act = Actor(3, 1, (32, 32))
    save_archive(wrapped(gen1_state(act, "actor"), (32, 32), box), os.path.join(bad, "actor_obs3_for_critic_input5.pth"))
    entries.append(("critic_input5.pth", "gen-1 critic, 5→32→32→1, wrapped (obs_dim 3, action_dim 1 in _init_kwargs)",
                    "error when paired with an actor of obs 3 / act 1: critic input 5 != obs 3 + act 1"))
    entries.append(("actor_obs3_for_critic_input5.pth", "gen-1 actor 3→32→32→1, the partner of critic_input5.pth",
                    "loads fine on its own"))
    # the corrupted checkpoints below start from this small (7 KB) gen-1 actor
    demo_actor = os.path.join(bad, "actor_obs3_for_critic_input5.pth")

    # 1. raw pickle (protocol 2) whose REDUCE calls os.system
    with open(os.path.join(bad, "pickle_os_system.pkl"), "wb") as f:
        pickle.dump({"state_dict": _SystemCall()}, f, protocol=2)
    entries.append(("pickle_os_system.pkl", "raw protocol-2 pickle: GLOBAL 'posix system' (os.system on Linux), then REDUCE",
                    "error naming the forbidden global (os.system / posix.system); nothing executed, /tmp/pwned not created"))
    # 2. same inside a real torch zip checkpoint (torch.save uses pickle protocol 2)
    b = io.BytesIO()
    torch.save({"state_dict": OrderedDict(w=torch.zeros(2)), "payload": _SystemCall()}, b)
    open(os.path.join(bad, "ckpt_os_system.pth"), "wb").write(b.getvalue())
    entries.append(("ckpt_os_system.pth", "torch zip checkpoint (archive/) whose data.pkl has GLOBAL 'posix system' + REDUCE next to a real tensor",
                    "error (forbidden global / unknown callable), never executed"))
    # 3. builtins.eval
    b = io.BytesIO()
    torch.save({"state_dict": OrderedDict(w=torch.zeros(2)), "payload": _EvalCall()}, b)
    open(os.path.join(bad, "ckpt_builtins_eval.pth"), "wb").write(b.getvalue())
    with open(os.path.join(bad, "pickle_builtins_eval.pkl"), "wb") as f:
        pickle.dump(_EvalCall(), f, protocol=2)
    entries.append(("ckpt_builtins_eval.pth", "torch zip checkpoint whose data.pkl has GLOBAL '__builtin__ eval' (protocol 2 writes builtins as __builtin__) + REDUCE",
                    "error, never executed"))
    entries.append(("pickle_builtins_eval.pkl", "raw protocol-2 pickle: GLOBAL '__builtin__ eval' + REDUCE", "error, never executed"))
    # 4. truncated zip
    raw = open(demo_actor, "rb").read()
    open(os.path.join(bad, "ckpt_truncated_half.pth"), "wb").write(raw[: len(raw) // 2])
    entries.append(("ckpt_truncated_half.pth", f"actor_obs3_for_critic_input5.pth cut to its first {len(raw)//2} of {len(raw)} bytes",
                    "clear 'truncated / not a valid zip' error, no panic"))
    # 5. empty
    open(os.path.join(bad, "empty.pth"), "wb").close()
    entries.append(("empty.pth", "zero bytes", "clear 'empty file' error"))
    # 6. flipped byte in data.pkl (rebuild zip with the same member names)
    zin = zipfile.ZipFile(demo_actor)
    bo = io.BytesIO()
    with zipfile.ZipFile(bo, "w", compression=zipfile.ZIP_STORED) as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename.endswith("data.pkl"):
                # flip a byte inside the pickle stream, away from the header; pick an opcode byte
                pos = len(data) // 3
                data = data[:pos] + bytes([data[pos] ^ 0xFF]) + data[pos + 1:]
                flip_pos = pos
            zi = zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0))  # reproducible bytes
            zout.writestr(zi, data)
    open(os.path.join(bad, "ckpt_flipped_byte_datapkl.pth"), "wb").write(bo.getvalue())
    entries.append(("ckpt_flipped_byte_datapkl.pth",
                    f"actor_obs3_for_critic_input5.pth rebuilt with byte {flip_pos} of archive/data.pkl XOR 0xFF (zip CRCs are correct "
                    "for the corrupted data)", "parse error (bad opcode / bad value) or a load error naming the file; no panic"))
    # 6b. flipped byte in the raw zip (CRC mismatch)
    raw_flip = bytearray(raw)
    zi = zipfile.ZipFile(demo_actor)
    info = zi.getinfo([n for n in zi.namelist() if n.endswith("data.pkl")][0])
    # local header is 30 bytes + name + extra
    hdr = info.header_offset
    name_len = int.from_bytes(raw[hdr + 26:hdr + 28], "little")
    extra_len = int.from_bytes(raw[hdr + 28:hdr + 30], "little")
    dpos = hdr + 30 + name_len + extra_len + 40
    raw_flip[dpos] ^= 0xFF
    open(os.path.join(bad, "ckpt_flipped_byte_crc.pth"), "wb").write(bytes(raw_flip))
    entries.append(("ckpt_flipped_byte_crc.pth", f"actor_obs3_for_critic_input5.pth with byte {dpos} (inside data.pkl) XOR 0xFF in place",
                    "zip CRC-32 mismatch error (the local CRC no longer matches; torch itself does not check it and fails in the pickle); no panic"))
    # 7. buffer whose size exceeds capacity
    d = torch.load(demo_buf)
    small = {"capacity": 100, "obs_dim": 3, "action_dim": 1, "size": 150, "index": 50,
             "observations": d["observations"][:100].clone(), "actions": d["actions"][:100].clone(),
             "rewards": d["rewards"][:100].clone(), "next_observations": d["next_observations"][:100].clone(),
             "dones": d["dones"][:100].clone()}
    save_archive(small, os.path.join(bad, "buffer_size_gt_capacity.pth"))
    entries.append(("buffer_size_gt_capacity.pth", "replay buffer dict with capacity 100, size 150, index 50",
                    "error: size 150 exceeds capacity 100"))
    # 7b. buffer whose tensor rows disagree with capacity
    small2 = dict(small, size=80, index=80, observations=d["observations"][:60].clone())
    save_archive(small2, os.path.join(bad, "buffer_rows_lt_capacity.pth"))
    entries.append(("buffer_rows_lt_capacity.pth", "capacity 100, size 80 but observations has 60 rows",
                    "error: observations has 60 rows, want capacity 100"))
    # 8. invalid YAML config
    with open(os.path.join(bad, "config_invalid.yaml"), "w") as f:
        f.write("experiment_name: pendulum-v1\nenv: {name: Pendulum-v1\nalgorithm:\n  type: td3\n   gamma: [0.98\n\t- tab\n")
    entries.append(("config_invalid.yaml", "unclosed flow mapping, bad indentation, a tab", "yaml parse error naming the file"))
    # 10. legacy non-zip truncated
    legacy_actor = os.path.join(out, "runs", LEGACY, "models", "actor.pth")
    if os.path.exists(legacy_actor):
        raw = open(legacy_actor, "rb").read()
        open(os.path.join(bad, "legacy_truncated.pth"), "wb").write(raw[: len(raw) * 2 // 3])
        entries.append(("legacy_truncated.pth", "legacy (non-zip) actor.pth cut at 2/3", "clear truncation error"))
    # 11. not a torch file at all
    open(os.path.join(bad, "text_not_torch.pth"), "w").write("this is a text file, not a checkpoint\n")
    entries.append(("text_not_torch.pth", "plain text", "error: not a torch checkpoint"))

    with open(os.path.join(bad, "README.md"), "w") as f:
        f.write("# Hostile and broken files\n\nMade by `tools/make_fixtures.py` with real torch "
                f"{torch.__version__} / pickle. No file here may ever be loaded with `torch.load` or unpickled "
                "by Python: the ones with `os_system` or `eval` in their name run a command on load "
                "(`echo pwned > /tmp/pwned`). A test should check that `/tmp/pwned` does not appear.\n\n")
        f.write("| file | what it is | what loading it should produce |\n|---|---|---|\n")
        for name, what, want in entries:
            f.write(f"| `{name}` | {what} | {want} |\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default="testdata")
    ap.add_argument("--only", default="demo,gen2,legacy,sac,bad")
    ap.add_argument("--demo-steps", type=int, default=15000)
    ap.add_argument("--parity-only", action="store_true",
                    help="write only the expected files of write_parity from the committed runs (no training)")
    args = ap.parse_args()
    only = set(args.only.split(","))
    os.makedirs(args.out, exist_ok=True)
    if args.parity_only:
        names = {"demo": DEMO, "gen2": GEN2, "legacy": LEGACY, "sac": SAC}
        for key, name in names.items():
            if key in only:
                write_parity(os.path.join(args.out, "runs", name), os.path.join(args.out, "expected", name))
        return
    if "demo" in only:
        fixture_demo(args.out, args.demo_steps)
    if "gen2" in only:
        fixture_gen2(args.out)
    if "legacy" in only:
        fixture_legacy(args.out)
    if "sac" in only:
        fixture_sac(args.out)
    if "bad" in only:
        fixture_bad(args.out)


if __name__ == "__main__":
    main()
