#!/usr/bin/python3
"""Write rleval's fixtures for other libraries' run layouts, each exactly as
that library saves it, plus the values PyTorch computes on them.

    /usr/bin/python3 tools/make_layouts.py --out testdata

writes testdata/layouts/ (an RL Zoo logs/ tree with TD3, SAC, SAC+gSDE with
VecNormalize, DDPG and TQC runs, a CleanRL runs/ folder, an original-TD3
folder holding two TD3 runs and the OurDDPG and DDPG baselines of that code) and testdata/expected-layouts/<run path with / as +>/ (policy and
Q arrays on a grid_n x grid_n Pendulum grid and over the replay buffer).

Stable-Baselines3, sb3-contrib, gymnasium and tensorboard are not installable
here, so their save code is reproduced from their sources:
- SB3 base_class.save -> save_util.save_to_zip_file: zip members `data`
  (data_to_json, copied below), `pytorch_variables.pth`, `policy.pth`,
  `<optimizer>.pth` (each torch.save'd with force_zip64), then
  `_stable_baselines3_version` and `system_info.txt`.
- save_to_pkl: pickle.dump(obj, protocol=pickle.HIGHEST_PROTOCOL) for the
  replay buffer; VecNormalize.save: pickle.dump(self) (default protocol).
  The pickled classes are stand-ins registered under the libraries' module
  paths, so the pickles name the same globals.
- TensorBoard event files: TFRecord framing with masked CRC32C around Event
  protobufs, encoded by hand below.
Tiny networks (3 -> 16 -> 16 -> out) and buffers keep every file at KBs.
"""

import argparse
import base64
import copy
import io
import json
import os
import pickle
import shutil
import struct
import zipfile
from collections import OrderedDict

import numpy as np
import torch
import torch.nn as nn
from fixturelib import ensure_module, f32, grid_obs  # noqa: E402 (beside this script)

torch.set_num_threads(1)
GRID_N = 16
HID = [16, 16]


def stand_in(module, name, getstate=None):
    mod = ensure_module(module)
    ns = {"__module__": module, "__qualname__": name}
    if getstate:
        ns["__getstate__"] = getstate
    cls = type(name, (object,), ns)
    setattr(mod, name, cls)
    return cls


Box = stand_in("gymnasium.spaces.box", "Box")
RunningMeanStd = stand_in("stable_baselines3.common.running_mean_std", "RunningMeanStd")
ReplayBuffer = stand_in("stable_baselines3.common.buffers", "ReplayBuffer")


def _vn_getstate(self):
    state = self.__dict__.copy()
    for k in ("venv", "class_attributes", "returns"):
        state.pop(k, None)
    return state


VecNormalize = stand_in("stable_baselines3.common.vec_env.vec_normalize", "VecNormalize", _vn_getstate)


def make_box(low, high):
    b = Box()
    low, high = np.asarray(low, np.float32), np.asarray(high, np.float32)
    b.dtype = np.dtype(np.float32)
    b._shape = low.shape
    b.low, b.high = low, high
    b.low_repr = str(low.min()) if np.all(low == low.min()) else str(low)
    b.high_repr = str(high.max()) if np.all(high == high.max()) else str(high)
    b.bounded_below = np.isfinite(low)
    b.bounded_above = np.isfinite(high)
    b._np_random = None
    return b


OBS_SPACE = make_box([-1, -1, -8], [1, 1, 8])
ACT_SPACE = make_box([-2], [2])


# --- save_util.data_to_json, from stable_baselines3/common/save_util.py ----
def is_json_serializable(item):
    try:
        json.dumps(item)
        return True
    except TypeError:
        return False


def data_to_json(data):
    serializable_data = {}
    for data_key, data_item in data.items():
        if is_json_serializable(data_item):
            serializable_data[data_key] = data_item
        else:
            # SB3 uses cloudpickle; the blob is opaque to readers either way.
            base64_encoded = base64.b64encode(pickle.dumps(data_item)).decode()
            cloudpickle_serialization = {":type:": str(type(data_item)), ":serialized:": base64_encoded}
            if hasattr(data_item, "__dict__") or isinstance(data_item, dict):
                item_generator = data_item.items if isinstance(data_item, dict) else data_item.__dict__.items
                for variable_name, variable_item in item_generator():
                    if is_json_serializable(variable_item):
                        cloudpickle_serialization[variable_name] = variable_item
                    else:
                        cloudpickle_serialization[variable_name] = str(variable_item)
            serializable_data[data_key] = cloudpickle_serialization
    return json.dumps(serializable_data, indent=4)


def save_to_zip_file(path, data, params, pytorch_variables, version="2.3.2"):
    with zipfile.ZipFile(path, mode="w") as archive:
        archive.writestr("data", data_to_json(data))
        with archive.open("pytorch_variables.pth", mode="w", force_zip64=True) as f:
            torch.save(pytorch_variables, f)
        for file_name, dict_ in params.items():
            with archive.open(file_name + ".pth", mode="w", force_zip64=True) as f:
                torch.save(dict_, f)
        archive.writestr("_stable_baselines3_version", version)
        archive.writestr("system_info.txt", "- OS: Linux\n- Python: 3.11.7\n- Stable-Baselines3: %s\n- PyTorch: %s\n" % (version, torch.__version__))


# --- networks ---------------------------------------------------------------
def mlp(inp, out, act=nn.ReLU, hid=HID):
    layers, last = [], inp
    for h in hid:
        layers += [nn.Linear(last, h), act()]
        last = h
    layers.append(nn.Linear(last, out))
    return nn.Sequential(*layers)


class Actor(nn.Module):  # SB3 TD3 actor: mu = mlp + Tanh
    def __init__(self, act=nn.ReLU):
        super().__init__()
        self.mu = nn.Sequential(*mlp(3, 1, act), nn.Tanh())


class SACActor(nn.Module):
    def __init__(self, sde=False):
        super().__init__()
        self.latent_pi = nn.Sequential(nn.Linear(3, HID[0]), nn.ReLU(), nn.Linear(HID[0], HID[1]), nn.ReLU())
        if sde:
            self.mu = nn.Sequential(nn.Linear(HID[1], 1), nn.Hardtanh(-2.0, 2.0))
            self.log_std = nn.Parameter(torch.ones(HID[1], 1) * -2.0)
        else:
            self.mu = nn.Linear(HID[1], 1)
            self.log_std = nn.Linear(HID[1], 1)
        self.sde = sde

    def det(self, obs):  # deterministic action in [-1, 1]
        return torch.tanh(self.mu(self.latent_pi(obs)))


class Critic(nn.Module):
    def __init__(self, n, out=1, act=nn.ReLU):
        super().__init__()
        for i in range(n):
            self.add_module(f"qf{i}", mlp(4, out, act))
        self.n = n

    def qs(self, obs, a):
        x = torch.cat([obs, a], 1)
        return [getattr(self, f"qf{i}")(x) for i in range(self.n)]


class Policy(nn.Module):
    pass


def perturb(m, g, scale=0.3):
    with torch.no_grad():
        for p in m.parameters():
            p.add_(torch.randn(p.shape, generator=g) * scale)


def adam_state(module):
    """A real optimizer state dict, from one step on a copy (the saved
    weights stay those the expected values are computed from)."""
    module = copy.deepcopy(module)
    opt = torch.optim.Adam(module.parameters(), lr=1e-3)
    loss = sum((p * p).sum() for p in module.parameters())
    loss.backward()
    opt.step()
    opt.zero_grad()
    return opt.state_dict()


def sb3_policy(algo, g, sde=False):
    pol = Policy()
    if algo in ("td3", "ddpg"):
        act = nn.Tanh if algo == "ddpg" else nn.ReLU
        pol.actor = Actor(act)
        pol.actor_target = Actor(act)
        ncrit = 1 if algo == "ddpg" else 2
        pol.critic = Critic(ncrit, act=act)
        pol.critic_target = Critic(ncrit, act=act)
        for m in (pol.actor, pol.critic):
            perturb(m, g)
        pol.actor_target.load_state_dict(pol.actor.state_dict())
        pol.critic_target.load_state_dict(pol.critic.state_dict())
        perturb(pol.actor_target, g, 0.05)
        perturb(pol.critic_target, g, 0.05)
    else:
        pol.actor = SACActor(sde)
        out = 5 if algo == "tqc" else 1
        pol.critic = Critic(2, out)
        pol.critic_target = Critic(2, out)
        for m in (pol.actor, pol.critic):
            perturb(m, g)
        pol.critic_target.load_state_dict(pol.critic.state_dict())
    return pol


def sb3_data(algo, sde, policy_kwargs, steps):
    d = OrderedDict()
    d["policy_class"] = Policy
    d["device"] = "cpu"
    d["verbose"] = 1
    d["policy_kwargs"] = policy_kwargs
    d["num_timesteps"] = steps
    d["_total_timesteps"] = steps
    d["_num_timesteps_at_start"] = 0
    d["seed"] = 1
    d["action_noise"] = None
    d["start_time"] = 1700000000000000000
    d["learning_rate"] = 0.001
    d["tensorboard_log"] = None
    d["_last_obs"] = np.zeros((1, 3), np.float32)
    d["_last_episode_starts"] = np.array([True])
    d["_episode_num"] = 2
    d["use_sde"] = sde
    d["sde_sample_freq"] = -1
    d["_current_progress_remaining"] = 0.0
    d["_stats_window_size"] = 100
    d["_n_updates"] = steps - 100
    d["observation_space"] = OBS_SPACE
    d["action_space"] = ACT_SPACE
    d["n_envs"] = 1
    d["buffer_size"] = 100
    d["batch_size"] = 32
    d["learning_starts"] = 100
    d["tau"] = 0.005
    d["gamma"] = 0.98
    d["gradient_steps"] = 1
    d["optimize_memory_usage"] = False
    d["replay_buffer_class"] = ReplayBuffer
    d["replay_buffer_kwargs"] = {}
    if algo == "td3":
        d["policy_delay"] = 2
        d["target_noise_clip"] = 0.5
        d["target_policy_noise"] = 0.2
    if algo in ("sac", "tqc"):
        d["target_entropy"] = -1.0
        d["ent_coef"] = "auto"
        d["target_update_interval"] = 1
    if algo == "tqc":
        d["top_quantiles_to_drop_per_net"] = 2
    return d


def save_sb3(path, algo, pol, sde, policy_kwargs, steps, g, ent_coef="auto", alpha=1.0):
    """ent_coef "auto": SAC tunes log_ent_coef (saved, starting here at
    log(alpha)) with its own optimizer; a number: ent_coef_tensor, fixed.
    Returns what PyTorch reads as the temperature, for the expected files."""
    params = OrderedDict()
    params["policy"] = pol.state_dict()
    params["actor.optimizer"] = adam_state(pol.actor)
    params["critic.optimizer"] = adam_state(pol.critic)
    pv = {}
    temp = None
    if algo in ("sac", "tqc"):
        if ent_coef == "auto":
            log_ent = torch.log(torch.full((1,), alpha)).requires_grad_(True)
            pv["log_ent_coef"] = log_ent
            eo = torch.optim.Adam([log_ent], lr=1e-3)
            params["ent_coef_optimizer"] = eo.state_dict()
            temp = {"alpha": float(torch.exp(log_ent.detach())[0]), "log_alpha": float(log_ent.detach()[0])}
        else:
            pv["ent_coef_tensor"] = torch.tensor(float(ent_coef))
            temp = {"alpha": float(pv["ent_coef_tensor"]), "log_alpha": None}
        temp["target_entropy"] = -1.0
    data = sb3_data(algo, sde, policy_kwargs, steps)
    if algo in ("sac", "tqc"):
        data["ent_coef"] = ent_coef
    save_to_zip_file(path, data, params, pv)
    return temp


def make_replay_buffer(g, n=40, cap=64):
    rb = ReplayBuffer()
    rb.buffer_size = cap
    rb.observation_space = OBS_SPACE
    rb.action_space = ACT_SPACE
    rb.obs_shape = (3,)
    rb.action_dim = 1
    rb.pos = n
    rb.full = False
    rb.device = torch.device("cpu")
    rb.n_envs = 1
    rb.optimize_memory_usage = False
    th = torch.rand(cap, generator=g).numpy() * 2 * np.pi - np.pi
    thd = torch.rand(cap, generator=g).numpy() * 16 - 8
    obs = np.stack([np.cos(th), np.sin(th), thd], 1).astype(np.float32)
    rb.observations = obs.reshape(cap, 1, 3).copy()
    rb.observations[n:] = 0
    rb.next_observations = np.roll(obs, -1, 0).reshape(cap, 1, 3).copy()
    rb.next_observations[n:] = 0
    rb.actions = (torch.rand(cap, 1, 1, generator=g).numpy() * 2 - 1).astype(np.float32)
    rb.actions[n:] = 0
    rb.rewards = (-torch.rand(cap, 1, generator=g).numpy() * 10).astype(np.float32)
    rb.rewards[n:] = 0
    rb.dones = np.zeros((cap, 1), np.float32)
    rb.dones[19, 0] = 1.0
    rb.handle_timeout_termination = True
    rb.timeouts = np.zeros((cap, 1), np.float32)
    rb.timeouts[19, 0] = 1.0
    return rb


def make_vecnormalize(g):
    vn = VecNormalize()
    rms = RunningMeanStd()
    rms.mean = np.array([0.1, -0.2, 0.5], np.float64)
    rms.var = np.array([0.4, 0.6, 9.0], np.float64)
    rms.count = 1234.0
    ret = RunningMeanStd()
    ret.mean, ret.var, ret.count = np.zeros((), np.float64), np.ones((), np.float64), 1e-4
    vn.obs_rms = rms
    vn.ret_rms = ret
    vn.clip_obs = 1.5  # small, so that clipping shows on the grid
    vn.clip_reward = 10.0
    vn.norm_obs = True
    vn.norm_reward = False
    vn.gamma = 0.98
    vn.epsilon = 1e-8
    vn.training = True
    vn.norm_obs_keys = None
    vn.observation_space = OBS_SPACE
    vn.action_space = ACT_SPACE
    vn.num_envs = 1
    vn.render_mode = None
    vn.venv = object()
    vn.class_attributes = {}
    vn.returns = np.zeros(1)
    return vn


def write_monitor(path, g):
    with open(path, "w") as f:
        f.write('#{"t_start": 1700000000.5, "env_id": "Pendulum-v1"}\n')
        f.write("r,l,t\n")
        for i in range(3):
            f.write("%s,200,%s\n" % (round(float(-1500 + 300 * i + torch.rand(1, generator=g).item()), 6), round(2.5 * (i + 1), 6)))


def write_evaluations(path, g):
    ts = np.array([100, 200, 300], dtype=np.int64)
    res = (-1200 + 300 * np.arange(3)[:, None] + torch.randn(3, 2, generator=g).numpy() * 50).astype(np.float64)
    ep = np.full((3, 2), 200, dtype=np.int64)
    np.savez(path, timesteps=ts, results=res, ep_lengths=ep)


def zoo_yaml(pairs):
    out = "!!python/object/apply:collections.OrderedDict\n- "
    lines = []
    for k, v in pairs:
        lines.append("- - %s\n    - %s" % (k, v))
    return out + "\n  ".join(lines) + "\n"


# --- expected values --------------------------------------------------------
def write_expected(exp, n, policy, q1, q2, qcomb, target=None, q1t=None, q2t=None, buf=None, notes=""):
    """policy(obs) -> env action; q1/q2(obs, env action) -> Q; qcomb combines them.
    q2 None: one critic (DDPG), Q is Q1 and there is no Q2 map (nor q2t)."""
    os.makedirs(exp, exist_ok=True)
    og = grid_obs(n)
    comb = (lambda a, b: a) if q2 is None else qcomb
    q2 = q2 if q2 is not None else (lambda s, a: None)
    with torch.no_grad():
        ag = policy(og)
        np.save(os.path.join(exp, "policy_grid.npy"), f32(ag.numpy().reshape(n, n)))
        if target is not None:
            tg = target(og)
            np.save(os.path.join(exp, "target_grid.npy"), f32(tg.numpy().reshape(n, n)))
        a, b = q1(og, ag), q2(og, ag)
        np.save(os.path.join(exp, "q1_grid.npy"), f32(a.numpy().reshape(n, n)))
        if b is not None:
            np.save(os.path.join(exp, "q2_grid.npy"), f32(b.numpy().reshape(n, n)))
        # the Q map needs no buffer: every run has one
        np.save(os.path.join(exp, "q_grid.npy"), f32(comb(a, b).numpy().reshape(n, n)))
        if q1t is not None:
            np.save(os.path.join(exp, "q1_target_grid.npy"), f32(q1t(og, ag).numpy().reshape(n, n)))
        if q2t is not None:
            np.save(os.path.join(exp, "q2_target_grid.npy"), f32(q2t(og, ag).numpy().reshape(n, n)))
        if buf is not None:
            bo, ba = buf
            np.save(os.path.join(exp, "q_buffer.npy"), f32(comb(q1(bo, ba), q2(bo, ba)).numpy().flatten()))
            np.save(os.path.join(exp, "q_policy.npy"), f32(comb(q1(bo, policy(bo)), q2(bo, policy(bo))).numpy().flatten()))
    with open(os.path.join(exp, "meta.json"), "w") as f:
        json.dump({"grid_n": n, "notes": notes}, f, indent=1)


LOW, HIGH = torch.tensor([-2.0]), torch.tensor([2.0])


def unscale(a):
    return LOW + 0.5 * (a + 1.0) * (HIGH - LOW)


def scale(a):
    return 2.0 * (a - LOW) / (HIGH - LOW) - 1.0


def sb3_expected(exp, algo, pol, vn=None, rb=None):
    def norm(o):
        if vn is None:
            return o
        m = torch.tensor(vn.obs_rms.mean, dtype=torch.float32)
        s = torch.sqrt(torch.tensor(vn.obs_rms.var, dtype=torch.float32) + vn.epsilon)
        return torch.clamp((o - m) / s, -vn.clip_obs, vn.clip_obs)

    if algo in ("td3", "ddpg"):
        policy = lambda o: unscale(pol.actor.mu(norm(o)))
        target = lambda o: unscale(pol.actor_target.mu(norm(o)))
    else:
        policy = lambda o: unscale(pol.actor.det(norm(o)))
        target = None
    crit = lambda c, i: (lambda o, a: c.qs(norm(o), scale(a))[i].mean(1, keepdim=True) if algo == "tqc" else c.qs(norm(o), scale(a))[i])
    if algo == "tqc":
        comb = lambda a, b: (a + b) / 2
    else:
        comb = torch.min
    buf = None
    if rb is not None:
        n = rb.pos
        buf = (torch.tensor(rb.observations[:n, 0]), unscale(torch.tensor(rb.actions[:n, 0])))
    # DDPG's one critic (n_critics 1): Q is Q1, no Q2 maps.
    q1t, q2t = crit(pol.critic_target, 0), None if algo == "ddpg" else crit(pol.critic_target, 1)
    q2 = None if algo == "ddpg" else crit(pol.critic, 1)
    write_expected(exp, GRID_N, policy, crit(pol.critic, 0), q2, comb,
                   target, q1t, q2t, buf, notes=f"sb3 {algo}; env actions, critics see scaled actions")


# --- TensorBoard event files -------------------------------------------------
def crc32c(data):
    crc = 0xFFFFFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF


def masked_crc(data):
    c = crc32c(data)
    return (((c >> 15) | (c << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def field(num, wt, payload):
    key = varint(num << 3 | wt)
    if wt == 0:
        return key + varint(payload)
    if wt == 1:
        return key + payload  # 8 bytes
    if wt == 5:
        return key + payload  # 4 bytes
    return key + varint(len(payload)) + payload


def event(wall, step=None, file_version=None, summary=None):
    b = field(1, 1, struct.pack("<d", wall))
    if step is not None:
        b += field(2, 0, step)
    if file_version is not None:
        b += field(3, 2, file_version.encode())
    if summary is not None:
        b += field(5, 2, summary)
    return b


def scalar_value(tag, v):
    return field(1, 2, field(1, 2, tag.encode()) + field(2, 5, struct.pack("<f", v)))


def tensor_scalar_value(tag, v):
    # torch.utils.tensorboard's new_style scalars: TensorProto DT_FLOAT with
    # one float_val, plugin "scalars".
    tensor = field(1, 0, 1) + field(2, 2, b"") + field(5, 2, struct.pack("<f", v))
    meta = field(1, 2, field(1, 2, b"scalars"))
    return field(1, 2, field(1, 2, tag.encode()) + field(8, 2, tensor) + field(9, 2, meta))


def text_value(tag, s):
    tensor = field(1, 0, 7) + field(2, 2, field(2, 2, field(1, 0, 1))) + field(8, 2, s.encode())
    meta = field(1, 2, field(1, 2, b"text"))
    return field(1, 2, field(1, 2, tag.encode()) + field(8, 2, tensor) + field(9, 2, meta))


def record(data):
    n = struct.pack("<Q", len(data))
    return n + struct.pack("<I", masked_crc(n)) + data + struct.pack("<I", masked_crc(data))


def write_events(path, g):
    t = 1700000000.0
    recs = [event(t, file_version="brain.Event:2"),
            event(t + 0.1, step=0, summary=text_value("hyperparameters/text_summary", "|param|value|\n|-|-|\n|env_id|Pendulum-v1|"))]
    for i, step in enumerate([200, 400, 600]):
        ret = -1400.0 + 250 * i + float(torch.rand(1, generator=g)) * 10
        recs.append(event(t + i + 1, step=step, summary=scalar_value("charts/episodic_return", ret)))
        recs.append(event(t + i + 1, step=step, summary=scalar_value("charts/episodic_length", 200.0)))
    for i, step in enumerate([100, 200, 300, 400]):
        s = scalar_value("losses/qf1_loss", 1.0 / (i + 1)) + scalar_value("losses/qf1_values", -10.0 - i)
        recs.append(event(t + 5 + i, step=step, summary=s))
        recs.append(event(t + 5 + i, step=step, summary=tensor_scalar_value("losses/actor_loss", 5.0 + i)))
    with open(path, "wb") as f:
        for r in recs:
            f.write(record(r))


# --- CleanRL and original TD3 -----------------------------------------------
class CleanActor(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(3, HID[0])
        self.fc2 = nn.Linear(HID[0], HID[1])
        self.fc_mu = nn.Linear(HID[1], 1)
        self.register_buffer("action_scale", torch.tensor((HIGH - LOW) / 2.0, dtype=torch.float32))
        self.register_buffer("action_bias", torch.tensor((HIGH + LOW) / 2.0, dtype=torch.float32))

    def forward(self, x):
        x = torch.relu(self.fc1(x))
        x = torch.relu(self.fc2(x))
        return torch.tanh(self.fc_mu(x)) * self.action_scale + self.action_bias


class CleanQ(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(4, HID[0])
        self.fc2 = nn.Linear(HID[0], HID[1])
        self.fc3 = nn.Linear(HID[1], 1)

    def forward(self, x, a):
        x = torch.cat([x, a], 1)
        return self.fc3(torch.relu(self.fc2(torch.relu(self.fc1(x)))))


class TD3Actor(nn.Module):
    def __init__(self, max_action):
        super().__init__()
        self.l1 = nn.Linear(3, HID[0])
        self.l2 = nn.Linear(HID[0], HID[1])
        self.l3 = nn.Linear(HID[1], 1)
        self.max_action = max_action

    def forward(self, s):
        a = torch.relu(self.l1(s))
        a = torch.relu(self.l2(a))
        return self.max_action * torch.tanh(self.l3(a))


class TD3Critic(nn.Module):
    def __init__(self):
        super().__init__()
        self.l1 = nn.Linear(4, HID[0])
        self.l2 = nn.Linear(HID[0], HID[1])
        self.l3 = nn.Linear(HID[1], 1)
        self.l4 = nn.Linear(4, HID[0])
        self.l5 = nn.Linear(HID[0], HID[1])
        self.l6 = nn.Linear(HID[1], 1)

    def Q(self, s, a, i):
        sa = torch.cat([s, a], 1)
        if i == 1:
            return self.l3(torch.relu(self.l2(torch.relu(self.l1(sa)))))
        return self.l6(torch.relu(self.l5(torch.relu(self.l4(sa)))))


class OurDDPGCritic(nn.Module):  # sfujim/TD3 OurDDPG.py: one Q of cat(s, a)
    def __init__(self):
        super().__init__()
        self.l1 = nn.Linear(4, HID[0])
        self.l2 = nn.Linear(HID[0], HID[1])
        self.l3 = nn.Linear(HID[1], 1)

    def forward(self, s, a):
        q = torch.relu(self.l1(torch.cat([s, a], 1)))
        return self.l3(torch.relu(self.l2(q)))


class DDPGCritic(nn.Module):  # sfujim/TD3 DDPG.py: the action enters at l2
    def __init__(self):
        super().__init__()
        self.l1 = nn.Linear(3, HID[0])
        self.l2 = nn.Linear(HID[0] + 1, HID[1])
        self.l3 = nn.Linear(HID[1], 1)

    def forward(self, s, a):
        q = torch.relu(self.l1(s))
        q = torch.relu(self.l2(torch.cat([q, a], 1)))
        return self.l3(q)


def save_sfujim(base, actor, critic):
    """What sfujim/TD3's save(filename) writes: the critic's and the actor's
    state dicts and their optimizers', each as <base>_<part>."""
    torch.save(critic.state_dict(), base + "_critic")
    torch.save(adam_state(critic), base + "_critic_optimizer")
    torch.save(actor.state_dict(), base + "_actor")
    torch.save(adam_state(actor), base + "_actor_optimizer")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default="testdata")
    args = ap.parse_args()
    root = os.path.join(args.out, "layouts")
    exp_root = os.path.join(args.out, "expected-layouts")
    for d in (root, exp_root):
        shutil.rmtree(d, ignore_errors=True)
    g = torch.Generator().manual_seed(12)
    torch.manual_seed(12)

    # RL Zoo logs/<algo>/<env>_<id>/
    zoo = [("td3", 1, False, False, True), ("sac", 1, False, False, True), ("sac", 2, True, True, True),
           ("ddpg", 1, False, False, False), ("tqc", 1, False, False, True)]
    for algo, rid, sde, vecnorm, with_buffer in zoo:
        run = os.path.join(root, "logs", algo, f"Pendulum-v1_{rid}")
        os.makedirs(os.path.join(run, "Pendulum-v1"))
        if algo == "ddpg":
            pk = {"net_arch": HID, "activation_fn": nn.Tanh}
        elif algo == "tqc":
            pk = {"net_arch": HID, "n_quantiles": 5, "n_critics": 2}
        elif sde:
            pk = {"net_arch": HID, "log_std_init": -2, "use_expln": False}
        else:
            pk = {"net_arch": HID}
        pol = sb3_policy(algo, g, sde)
        # The gSDE run uses a fixed temperature, the others a tuned one.
        ent_coef, alpha = (0.1, None) if sde else ("auto", 0.35 if algo == "sac" else 0.5)
        temp = save_sb3(os.path.join(run, "Pendulum-v1.zip"), algo, pol, sde, pk, 300, g, ent_coef, alpha)
        if algo == "td3":
            # checkpoints along training and the best model: other weights
            for n in (100, 200):
                p2 = sb3_policy(algo, g)
                save_sb3(os.path.join(run, f"rl_model_{n}_steps.zip"), algo, p2, sde, pk, n, g)
                if n == 200:
                    sb3_expected(os.path.join(exp_root, f"logs+{algo}+Pendulum-v1_{rid}@200"), algo, p2)
            shutil.copy(os.path.join(run, "rl_model_200_steps.zip"), os.path.join(run, "best_model.zip"))
        rb = None
        if with_buffer:
            rb = make_replay_buffer(g)
            with open(os.path.join(run, "replay_buffer.pkl"), "wb") as f:
                pickle.dump(rb, f, protocol=pickle.HIGHEST_PROTOCOL)
        vn = None
        if vecnorm:
            vn = make_vecnormalize(g)
            with open(os.path.join(run, "Pendulum-v1", "vecnormalize.pkl"), "wb") as f:
                pickle.dump(vn, f)
        write_evaluations(os.path.join(run, "evaluations.npz"), g)
        write_monitor(os.path.join(run, "0.monitor.csv"), g)
        with open(os.path.join(run, "Pendulum-v1", "config.yml"), "w") as f:
            f.write(zoo_yaml([("buffer_size", 100), ("gamma", 0.98), ("learning_starts", 100),
                              ("n_timesteps", 300.0), ("policy", "MlpPolicy"), ("policy_kwargs", repr(str(pk)))]))
        with open(os.path.join(run, "Pendulum-v1", "args.yml"), "w") as f:
            f.write(zoo_yaml([("algo", algo), ("env", "Pendulum-v1"), ("seed", rid)]))
        sb3_expected(os.path.join(exp_root, f"logs+{algo}+Pendulum-v1_{rid}"), algo, pol, vn, rb)
        if temp is not None:
            with open(os.path.join(exp_root, f"logs+{algo}+Pendulum-v1_{rid}", "temperature.json"), "w") as f:
                json.dump(temp, f, indent=1)

    # CleanRL runs/<env>__<exp>__<seed>__<time>/
    name = "Pendulum-v1__td3_continuous_action__1__1700000000"
    run = os.path.join(root, "runs", name)
    os.makedirs(run)
    actor, qf1, qf2 = CleanActor(), CleanQ(), CleanQ()
    for m in (actor, qf1, qf2):
        perturb(m, g)
    torch.save((actor.state_dict(), qf1.state_dict(), qf2.state_dict()), os.path.join(run, "td3_continuous_action.cleanrl_model"))
    write_events(os.path.join(run, "events.out.tfevents.1700000000.host.1234.0"), g)
    write_expected(os.path.join(exp_root, "runs+" + name), GRID_N, actor, qf1, qf2, torch.min,
                   notes="cleanrl td3_continuous_action")

    # Original TD3: models/<policy>_<env>_<seed>_actor, results/<...>.npy
    td3 = os.path.join(root, "TD3")
    os.makedirs(os.path.join(td3, "models"))
    os.makedirs(os.path.join(td3, "results"))
    for seed in (0, 1):
        fn = f"TD3_Pendulum-v1_{seed}"
        actor, critic = TD3Actor(2.0), TD3Critic()
        for m in (actor, critic):
            perturb(m, g)
        save_sfujim(os.path.join(td3, "models", fn), actor, critic)
        evals = [float(-1300 + 200 * i + seed) for i in range(4)]
        np.save(os.path.join(td3, "results", fn), evals)
        write_expected(os.path.join(exp_root, "TD3+" + fn), GRID_N, actor,
                       lambda s, a, c=critic: c.Q(s, a, 1), lambda s, a, c=critic: c.Q(s, a, 2), torch.min,
                       notes="sfujim/TD3, max_action 2 from Pendulum-v1")
    # The same code's DDPG baselines, saved the same way: OurDDPG's one
    # critic is a plain MLP of cat(s, a); DDPG.py's feeds the action into l2.
    for policy, critic in (("OurDDPG", OurDDPGCritic()), ("DDPG", DDPGCritic())):
        fn = f"{policy}_Pendulum-v1_0"
        actor = TD3Actor(2.0)
        for m in (actor, critic):
            perturb(m, g)
        save_sfujim(os.path.join(td3, "models", fn), actor, critic)
        np.save(os.path.join(td3, "results", fn), [float(-1400 + 150 * i) for i in range(4)])
        if policy == "OurDDPG":
            write_expected(os.path.join(exp_root, "TD3+" + fn), GRID_N, actor, critic, None, torch.min,
                           notes="sfujim/TD3 OurDDPG: one critic, Q is Q1")


if __name__ == "__main__":
    main()
