"""Helpers the fixture scripts share (make_fixtures.py, make_layouts.py,
gpu_check.py); they import it from beside them."""
import sys
import types

import numpy as np
import torch


def ensure_module(name):
    """Returns module name, creating it and its parents empty if missing, so
    that stand-in classes pickle under another library's module paths."""
    parts = name.split(".")
    for i in range(1, len(parts) + 1):
        mn = ".".join(parts[:i])
        if mn not in sys.modules:
            m = types.ModuleType(mn)
            sys.modules[mn] = m
            if i > 1:
                setattr(sys.modules[".".join(parts[: i - 1])], parts[i - 1], m)
    return sys.modules[name]


def grid_obs(n):
    """The n x n Pendulum grid: row i = thetadot_i in [-8, 8], column j =
    theta_j in [-pi, pi], as observations (cos, sin, thetadot)."""
    th = np.linspace(-np.pi, np.pi, n)
    thd = np.linspace(-8, 8, n)
    tg, tdg = np.meshgrid(th, thd)
    obs = np.stack([np.cos(tg.flatten()), np.sin(tg.flatten()), tdg.flatten()], axis=1)
    return torch.tensor(obs, dtype=torch.float32)


def f32(x):
    return np.ascontiguousarray(np.asarray(x, dtype=np.float32))
