"""Shared helpers of the PyTorch reference scripts: load a run directory's
networks and replay buffer the way upstream files are laid out (FORMATS.md),
without the upstream nn_laser_stabilizer package.

torch 1.13 has no weights_only=False switch; torch.load unpickles everything,
so the upstream Box classes are registered as stand-ins here. Only ever use
this on trusted files (the fixtures, your own runs).
"""
import os
import sys
import types

import numpy as np
import torch
import torch.nn.functional as F

BOX_MODULES = ("nn_laser_stabilizer.rl.envs.box", "nn_laser_stabilizer.box",
               "nn_laser_stabilizer.rl.envs.spaces.box")


def register_fake_modules():
    """Make the upstream Box class paths importable so torch.load can unpickle them."""
    for name in BOX_MODULES:
        parts = name.split(".")
        for i in range(1, len(parts) + 1):
            mn = ".".join(parts[:i])
            if mn not in sys.modules:
                sys.modules[mn] = types.ModuleType(mn)
                if i > 1:
                    setattr(sys.modules[".".join(parts[:i - 1])], parts[i - 1], sys.modules[mn])
        mod = sys.modules[name]
        if not hasattr(mod, "Box"):
            cls = type("Box", (), {"__module__": name})
            mod.Box = cls


register_fake_modules()


class MLP:
    """A plain stack of Linear layers with ReLU between them (float32)."""

    def __init__(self, layers):
        self.layers = [(w.float().contiguous(), b.float().contiguous()) for w, b in layers]

    def __call__(self, x):
        for j, (w, b) in enumerate(self.layers):
            x = F.linear(x, w, b)
            if j < len(self.layers) - 1:
                x = F.relu(x)
        return x

    @property
    def in_dim(self):
        return self.layers[0][0].shape[1]

    @property
    def out_dim(self):
        return self.layers[-1][0].shape[0]


class Actor:
    """a = low + (tanh(MLP(obs)[:, :act_dim]) + 1) * (high - low) / 2."""

    def __init__(self, mlp, low, high, act_dim):
        self.mlp, self.low, self.high, self.act_dim = mlp, low.float(), high.float(), act_dim

    def __call__(self, obs):
        u = self.mlp(obs)[:, : self.act_dim]
        return self.low + (torch.tanh(u) + 1) * (self.high - self.low) / 2


class Critic:
    """q = MLP(cat(obs, act))."""

    def __init__(self, mlp):
        self.mlp = mlp

    def __call__(self, obs, act):
        return self.mlp(torch.cat([obs, act], 1))


def _layers(sd, prefix):
    idx = sorted({int(k[len(prefix):].split(".")[0]) for k in sd
                  if k.startswith(prefix) and k.endswith(".weight")})
    return [(sd[f"{prefix}{i}.weight"], sd[f"{prefix}{i}.bias"]) for i in idx]


def load_state(path):
    """Return (state_dict, prefix, low, high) for a gen-1 wrapped or gen-2 plain file."""
    obj = torch.load(path, map_location="cpu")
    if isinstance(obj, dict) and "state_dict" in obj:
        sd = obj["state_dict"]
        box = obj.get("_init_kwargs", {}).get("action_space")
        low = getattr(box, "low", torch.tensor([-2.0]))
        high = getattr(box, "high", torch.tensor([2.0]))
        prefix = "net_body." if any(k.startswith("net_body.") for k in sd) else "net."
        return sd, prefix, low, high
    sd = obj
    low = sd.get("_scaler.low", torch.tensor([-2.0]))
    high = sd.get("_scaler.high", torch.tensor([2.0]))
    return sd, "_network.net.", low, high


def find_model(run_dir, name):
    for d, ext in (("models", ".pth"),) + tuple((f"agent_{a}", ".pt") for a in ("td3", "sac", "td3bc", "cql", "bc")):
        p = os.path.join(run_dir, d, name + ext)
        if os.path.exists(p):
            return p
    return None


def load_actor(path, act_dim=1):
    sd, prefix, low, high = load_state(path)
    return Actor(MLP(_layers(sd, prefix)), low, high, act_dim)


def load_critic(path):
    sd, prefix, _, _ = load_state(path)
    return Critic(MLP(_layers(sd, prefix)))


def random_nets(obs_dim, act_dim, hidden, seed=0):
    """Actor and two critics with PyTorch's default Linear initialisation, seeded."""
    torch.manual_seed(seed)

    def mk(i, o):
        dims = [i] + list(hidden) + [o]
        ls = []
        for a, b in zip(dims[:-1], dims[1:]):
            lin = torch.nn.Linear(a, b)
            ls.append((lin.weight.detach(), lin.bias.detach()))
        return MLP(ls)

    actor = Actor(mk(obs_dim, act_dim), torch.full((act_dim,), -2.0), torch.full((act_dim,), 2.0), act_dim)
    return actor, Critic(mk(obs_dim + act_dim, 1)), Critic(mk(obs_dim + act_dim, 1))


def load_run_nets(run_dir, act_dim=1):
    """Actor, critic1, critic2 of a run directory."""
    return (load_actor(find_model(run_dir, "actor"), act_dim), load_critic(find_model(run_dir, "critic1")),
            load_critic(find_model(run_dir, "critic2")))


def load_buffer(run_dir):
    """(observations, actions) of the valid rows, or None if the run has no buffer."""
    p = os.path.join(run_dir, "data", "replay_buffer.pth")
    if not os.path.exists(p):
        return None
    d = torch.load(p, map_location="cpu")
    n = int(d["size"])
    return d["observations"][:n].float().contiguous(), d["actions"][:n].float().contiguous()


def rows_of(obs, act, rows, obs_dim, act_dim, seed=0):
    """Exactly `rows` input rows: the buffer's rows tiled, or plausible random pendulum states."""
    if obs is not None and len(obs) > 0:
        reps = -(-rows // len(obs))
        return obs.repeat(reps, 1)[:rows].contiguous(), act.repeat(reps, 1)[:rows].contiguous()
    rng = np.random.default_rng(seed)
    th = rng.uniform(-np.pi, np.pi, rows)
    o = np.zeros((rows, obs_dim), np.float32)
    o[:, 0] = np.cos(th)
    if obs_dim > 1:
        o[:, 1] = np.sin(th)
    if obs_dim > 2:
        o[:, 2] = rng.uniform(-8, 8, rows)
    a = rng.uniform(-2, 2, (rows, act_dim)).astype(np.float32)
    return torch.from_numpy(o), torch.from_numpy(a)
