#!/usr/bin/python3
"""The seed notebook's analysis (/work/shared/seed/analysis-notebook.txt) run
headless on one run directory: same computations, same figures, saved as PNG
instead of shown. The reference for "how long does the manual workflow take".

    /usr/bin/python3 bench/reference/notebook.py RUN_DIR [--out DIR] [--grid 200] [--threads 1]

Models are loaded with plain torch.load (torch 1.13 has no weights_only
switch) after registering stand-ins for the upstream Box classes; gen-1
(models/*.pth) and gen-2 (agent_<algo>/*.pt) layouts both work. Prints one
JSON object with the wall time of each section and in total.
"""
import argparse
import json
import os
import sys
import time

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import torch  # noqa: E402
import yaml  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import runload  # noqa: E402


class MLPActor(torch.nn.Module):
    """Stand-in for nn_laser_stabilizer's MLPActor: returns (action, None)."""

    def __init__(self, sd, prefix, low, high, act_dim=1):
        super().__init__()
        layers = runload._layers(sd, prefix)
        mods = []
        for j, (w, b) in enumerate(layers):
            lin = torch.nn.Linear(w.shape[1], w.shape[0])
            lin.weight.data.copy_(w)
            lin.bias.data.copy_(b)
            mods.append(lin)
            if j < len(layers) - 1:
                mods.append(torch.nn.ReLU())
        self.net_body = torch.nn.Sequential(*mods)
        self.register_buffer("low", low.float())
        self.register_buffer("high", high.float())
        self.act_dim = act_dim

    def forward(self, obs):
        u = self.net_body(obs)[:, : self.act_dim]
        return self.low + (torch.tanh(u) + 1) * (self.high - self.low) / 2, None

    @classmethod
    def load(cls, path):
        sd, prefix, low, high = runload.load_state(path)
        return cls(sd, prefix, low, high)


class MLPCritic(torch.nn.Module):
    """Stand-in for nn_laser_stabilizer's MLPCritic: returns (q, None)."""

    def __init__(self, sd, prefix):
        super().__init__()
        layers = runload._layers(sd, prefix)
        mods = []
        for j, (w, b) in enumerate(layers):
            lin = torch.nn.Linear(w.shape[1], w.shape[0])
            lin.weight.data.copy_(w)
            lin.bias.data.copy_(b)
            mods.append(lin)
            if j < len(layers) - 1:
                mods.append(torch.nn.ReLU())
        self.net = torch.nn.Sequential(*mods)

    def forward(self, obs, act):
        return self.net(torch.cat([obs, act], 1)), None

    @classmethod
    def load(cls, path):
        sd, prefix, _, _ = runload.load_state(path)
        return cls(sd, prefix)


def load_jsonl(path, source=None, event=None):
    rows = []
    with open(path, "r") as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                continue
            if not isinstance(record, dict):
                continue
            if source and record.get("source") != source:
                continue
            if event and record.get("event") != event:
                continue
            rows.append(record)
    return pd.DataFrame(rows)


class Timer:
    def __init__(self):
        self.t = {}
        self.start = time.perf_counter()
        self.last = self.start

    def lap(self, name):
        now = time.perf_counter()
        self.t[name] = now - self.last
        self.last = now


def save(out, name):
    plt.tight_layout()
    plt.savefig(os.path.join(out, name + ".png"), dpi=80)
    plt.close("all")


def line_plot(out, name, x, y, title, ylabel, color, label=None, **kw):
    plt.figure(figsize=(14, 5))
    plt.plot(x, y, color=color, label=label, **kw)
    plt.title(title)
    plt.xlabel("Training step")
    plt.ylabel(ylabel)
    if label:
        plt.legend()
    plt.grid(True, alpha=0.3)
    save(out, name)


def plot_weight_histograms(out, name, model, title):
    linear_layers = [(n, m) for n, m in model.named_modules() if isinstance(m, torch.nn.Linear)]
    n = len(linear_layers)
    fig, axes = plt.subplots(n, 2, figsize=(14, 3 * n))
    if n == 1:
        axes = axes.reshape(1, -1)
    for i, (lname, layer) in enumerate(linear_layers):
        w = layer.weight.detach().cpu().numpy().flatten()
        axes[i, 0].hist(w, bins=80, alpha=0.7, color="tab:blue", edgecolor="black", linewidth=0.3)
        axes[i, 0].set_title(f"{lname} weights [{layer.weight.shape[1]}→{layer.weight.shape[0]}]")
        b = layer.bias.detach().cpu().numpy().flatten()
        axes[i, 1].hist(b, bins=40, alpha=0.7, color="tab:orange", edgecolor="black", linewidth=0.3)
        axes[i, 1].set_title(f"{lname} bias [{layer.bias.shape[0]}]")
    plt.suptitle(title, fontsize=14)
    save(out, name)


def heat(out, name, data, label, title, cmap, **kw):
    plt.figure(figsize=(10, 8))
    im = plt.imshow(data, extent=[-180, 180, -8, 8], origin="lower", aspect="auto", cmap=cmap, **kw)
    plt.colorbar(im, label=label)
    plt.xlabel("θ (deg)")
    plt.ylabel("θ̇ (rad/s)")
    plt.title(title)
    save(out, name)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("run")
    ap.add_argument("--out", default="")
    ap.add_argument("--grid", type=int, default=200)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    run = args.run.rstrip("/")
    out = args.out or os.path.join("/tmp", "notebook-" + os.path.basename(run))
    os.makedirs(out, exist_ok=True)
    T = Timer()

    config = yaml.safe_load(open(os.path.join(run, "config.yaml")))
    tr = config.get("training", {})
    log_path = os.path.join(run, tr.get("log_dir", "train_logs"), tr.get("log_file", "train.jsonl"))
    train_df = load_jsonl(log_path, source="train", event="step")
    eval_df = load_jsonl(log_path, source="train", event="evaluation")
    T.lap("config_and_log")

    if len(eval_df):
        plt.figure(figsize=(14, 5))
        plt.plot(eval_df["step"], eval_df["reward_mean"], "o-", markersize=3, linewidth=1.0, color="tab:blue")
        plt.fill_between(eval_df["step"], eval_df["reward_min"], eval_df["reward_max"], alpha=0.2, color="tab:blue")
        save(out, "eval_reward_mean")
        line_plot(out, "eval_reward_sum", eval_df["step"], eval_df["reward_sum"], "reward_sum", "Reward (sum)", "tab:green")
    if len(train_df):
        line_plot(out, "loss_q1", train_df["step"], train_df["loss_q1"], "Critic Q1 Loss", "Loss", "tab:blue", alpha=0.7)
        line_plot(out, "loss_q2", train_df["step"], train_df["loss_q2"], "Critic Q2 Loss", "Loss", "tab:green", alpha=0.7)
        if "actor_loss" in train_df:
            actor_df = train_df[train_df["actor_loss"].notna()]
            line_plot(out, "actor_loss", actor_df["step"], actor_df["actor_loss"], "Actor Loss", "Loss", "tab:red")
        line_plot(out, "buffer_size", train_df["step"], train_df["buffer_size"], "Buffer size", "size", "tab:purple")
    T.lap("curves")

    actor = MLPActor.load(runload.find_model(run, "actor")).eval()
    tgt_path = runload.find_model(run, "actor_target")
    actor_target = MLPActor.load(tgt_path).eval() if tgt_path else None
    critic1 = MLPCritic.load(runload.find_model(run, "critic1")).eval()
    critic2 = MLPCritic.load(runload.find_model(run, "critic2")).eval()
    params = {"actor": sum(p.numel() for p in actor.parameters()),
              "critic1": sum(p.numel() for p in critic1.parameters())}
    T.lap("load_models")
    plot_weight_histograms(out, "hist_actor", actor, "Actor weights")
    plot_weight_histograms(out, "hist_critic1", critic1, "Critic 1 weights")
    T.lap("weight_histograms")

    theta_range = np.linspace(-np.pi, np.pi, 500)
    obs_1d = np.stack([np.cos(theta_range), np.sin(theta_range), np.zeros_like(theta_range)], axis=1)
    with torch.no_grad():
        a1d = actor(torch.tensor(obs_1d, dtype=torch.float32))[0].numpy().flatten()
    line_plot(out, "policy_1d", np.degrees(theta_range), a1d, "torque(θ) at θ̇=0", "torque", "tab:red")
    n = args.grid
    tg, tdg = np.meshgrid(np.linspace(-np.pi, np.pi, n), np.linspace(-8, 8, n))
    obs_grid = np.stack([np.cos(tg.flatten()), np.sin(tg.flatten()), tdg.flatten()], axis=1)
    obs_tensor = torch.tensor(obs_grid, dtype=torch.float32)
    with torch.no_grad():
        actions_np = actor(obs_tensor)[0].numpy().reshape(n, n)
    heat(out, "policy_grid", actions_np, "torque", "torque(θ, θ̇)", "RdBu_r")
    T.lap("policy_maps")
    if actor_target is not None:
        l2 = {name: (p - pt).norm().item() for (name, p), (_, pt) in
              zip(actor.named_parameters(), actor_target.named_parameters())}
        total_l2 = sum((p - pt).pow(2).sum().item() for p, pt in
                       zip(actor.parameters(), actor_target.parameters())) ** 0.5
        with torch.no_grad():
            tgt_np = actor_target(obs_tensor)[0].numpy().reshape(n, n)
        diff = actions_np - tgt_np
        vmax = max(abs(diff.min()), abs(diff.max()))
        heat(out, "policy_diff", diff, "actor − actor_target", "actor − actor_target", "RdBu_r", vmin=-vmax, vmax=vmax)
    else:
        total_l2 = None
    T.lap("target_compare")

    stats = {}
    bpath = os.path.join(run, "data", "replay_buffer.pth")
    if os.path.exists(bpath):
        buffer = torch.load(bpath)
        m = int(buffer["size"])
        buf_obs = buffer["observations"][:m].numpy()
        buf_actions = buffer["actions"][:m].numpy()
        buf_rewards = buffer["rewards"][:m].numpy()
        buf_dones = buffer["dones"][:m].numpy()
        for i, nm in enumerate(["cos", "sin", "thetadot"]):
            stats[nm] = [float(buf_obs[:, i].mean()), float(buf_obs[:, i].std()), float(buf_obs[:, i].min()),
                         float(buf_obs[:, i].max())]
        stats["action"] = [float(buf_actions.mean()), float(buf_actions.std())]
        stats["reward"] = [float(buf_rewards.mean()), float(buf_rewards.std())]
        stats["dones"] = int(buf_dones.sum())
        T.lap("load_buffer_and_stats")
        fig, axes = plt.subplots(2, 2, figsize=(14, 10))
        for ax, d, t in zip(axes.flat, [buf_obs[:, 0], buf_obs[:, 1], buf_actions.flatten(), buf_rewards.flatten()],
                            ["cos(θ)", "sin(θ)", "action", "reward"]):
            ax.hist(d, bins=100, alpha=0.7, edgecolor="black", linewidth=0.3)
            ax.set_title(t)
        save(out, "buffer_hists")
        theta_buf = np.arctan2(buf_obs[:, 1], buf_obs[:, 0])
        plt.figure(figsize=(10, 8))
        plt.scatter(np.degrees(theta_buf), buf_obs[:, 2], c=buf_actions.flatten(), cmap="RdBu_r", alpha=0.05, s=1)
        plt.colorbar(label="action")
        save(out, "phase_portrait")
        T.lap("phase_portrait")
        plt.figure(figsize=(10, 8))
        plt.hist2d(np.degrees(theta_buf), buf_obs[:, 2], bins=100, cmap="hot_r")
        plt.colorbar()
        save(out, "coverage")
        T.lap("coverage")
        obs_t = torch.tensor(buf_obs, dtype=torch.float32)
        act_t = torch.tensor(buf_actions, dtype=torch.float32)
        with torch.no_grad():
            q_min_buffer = torch.min(critic1(obs_t, act_t)[0], critic2(obs_t, act_t)[0]).numpy().flatten()
            aa = actor(obs_t)[0]
            q_min_policy = torch.min(critic1(obs_t, aa)[0], critic2(obs_t, aa)[0]).numpy().flatten()
        stats["q_buffer"] = [float(q_min_buffer.mean()), float(q_min_buffer.std())]
        stats["q_policy"] = [float(q_min_policy.mean()), float(q_min_policy.std())]
        T.lap("q_buffer")
        fig, axes = plt.subplots(1, 2, figsize=(14, 5))
        axes[0].hist(q_min_buffer, bins=100, alpha=0.7, edgecolor="black", linewidth=0.3)
        axes[1].hist(q_min_policy, bins=100, alpha=0.7, edgecolor="black", linewidth=0.3)
        save(out, "q_hists")
        T.lap("q_hists")
    with torch.no_grad():
        ga = actor(obs_tensor)[0]
        q_grid = torch.min(critic1(obs_tensor, ga)[0], critic2(obs_tensor, ga)[0]).numpy().reshape(n, n)
    heat(out, "q_grid", q_grid, "Q(s, π(s))", "Q(s, π(s))", "viridis")
    T.lap("q_grid")
    total = time.perf_counter() - T.start
    print(json.dumps({"run": run, "out": out, "grid": n, "threads": args.threads, "wall_s": total,
                      "sections_s": T.t, "params": params, "l2_total": total_l2,
                      "step_records": len(train_df), "eval_records": len(eval_df), "stats": stats}))


if __name__ == "__main__":
    main()
