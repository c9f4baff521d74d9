#!/usr/bin/env python3
"""Trains the recurrent networks of issue 17's fixed-point benchmark, the way papers train them.

    /usr/bin/python3 bench/train_networks.py [--only NAME ...] [--out bench/networks]

Every network is trained with Adam on fresh random batches of its task (BPTT over the whole trial, MSE loss on the
readout, gradient norm clipped at 1), seeded (torch.manual_seed and a torch.Generator per network), on the CPU with
one thread, so a run gives the same files bit for bit. Each is saved the way users save them, as bench/networks/
<name>.pt, and described in bench/networks/networks.json (architecture, sizes, task, accuracy, how it is saved, the
Import-RnnModel command that loads it, the input at which fixed points are searched).

  ctx64             Context-dependent integration (Mante, Sussillo, Shenoy & Newsome 2013): nn.RNN(4, 64) tanh and
                    nn.Linear(64, 1). Inputs: two noisy stimulus channels (coherence c_k in +-[0.01, 0.2] plus
                    Gaussian noise s.d. 0.5 per step) and two one-hot context channels; the output must be, at every
                    step from step 10 on, the sign of the cumulative mean of the stimulus that the context selects (the
                    other one is ignored). 60-step trials. Saved: plain state_dict of the whole model (rnn.*, readout.*).
                    Fixed points are searched with context 1 on, u = [0, 0, 1, 0] (the stimuli off), where the trained
                    network integrates along a line attractor / slow manifold.
  integrator64      nn.RNN(1, 64) tanh and nn.Linear(64, 1): output the running sum of a noisy input (u_t = c + 0.2
                    xi_t, c uniform in [-0.05, 0.05]) over 64-step trials; a line attractor. Plain state_dict (rnn.*,
                    readout.*).
  gru32_flipflop3   nn.GRU(3, 32) and nn.Linear(32, 3), 3-bit flip-flop (Sussillo & Barak 2013): sparse +-1 pulses
                    (probability 0.05 per channel and step), each output holds the sign of the last pulse on its
                    channel. Saved as a training checkpoint {'epoch', 'model_state_dict', 'optimizer_state_dict'}.
  lstm20_flipflop2  nn.LSTM(2, 20) and nn.Linear(20, 2), 2-bit flip-flop. Saved whole: torch.save(model) of a
                    train_networks.SeqNet (rnn, readout).
  leaky64           A leaky rate network x' = x + a (-x + W tanh(x) + W_in u + b), a = 0.1, 64 units, readout
                    nn.Linear(64, 2) of the rates tanh(x); 2-bit flip-flop with 5-step pulses (onset probability 0.02
                    per channel and step), 150-step trials. Saved as a state_dict with keys weight_hh, weight_ih, bias,
                    readout.weight, readout.bias (Import-RnnModel -Architecture LeakyRnn -Alpha 0.1).
  flipflop16        nn.RNN(3, 16) tanh, 3-bit flip-flop, as the fixed-point toolkit's own example (16 units); plain
                    state_dict (rnn.*, readout.*).
  flipflop64        The same with 64 units.
  gru128x2          nn.GRU(8, 128, num_layers=2) and nn.Linear(128, 3): 3-bit flip-flop with 8 input channels, the
                    first 3 carrying the bits' pulses and the other 5 distractor pulses that the network must ignore;
                    48-step trials, batches of 32, trained briefly (300 iterations). Saved whole: torch.save(model) of a train_networks.SeqNet.
  lstm128x2         nn.LSTM(8, 128, num_layers=2) and nn.Linear(128, 3), the same task and training. Saved as a
                    training checkpoint {'epoch', 'model_state_dict', 'optimizer_state_dict'}.

Accuracy of a flip-flop: the fraction of (trial, step, bit) with a bit set (after its first pulse) at which the sign
of the output equals the bit, on 256 fresh trials. ctx64: the same for the sign of the cumulative mean, at the last
step and over steps 10..59, and against the sign of the relevant coherence. integrator64: R^2 of the output against
the running sum, and its MSE.
"""
import argparse
import json
import os
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)


# ----------------------------------------------------------------------------------------------------------- models
class SeqNet(nn.Module):
    """nn.RNN / nn.GRU / nn.LSTM (batch_first) with a linear readout of the top layer's h."""

    def __init__(self, kind, input_size, hidden_size, output_size, num_layers=1):
        super().__init__()
        cls = {"rnn": nn.RNN, "gru": nn.GRU, "lstm": nn.LSTM}[kind]
        extra = {"nonlinearity": "tanh"} if kind == "rnn" else {}
        self.rnn = cls(input_size, hidden_size, num_layers=num_layers, batch_first=True, **extra)
        self.readout = nn.Linear(hidden_size, output_size)

    def forward(self, x):
        states, _ = self.rnn(x)
        return self.readout(states)


class LeakyNet(nn.Module):
    """x' = x + alpha (-x + W tanh(x) + W_in u + b); output readout(tanh(x')) at every step; x starts at 0."""

    def __init__(self, input_size, hidden_size, output_size, alpha=0.1, gain=1.2):
        super().__init__()
        self.alpha = alpha
        self.weight_hh = nn.Parameter(torch.randn(hidden_size, hidden_size) * gain / hidden_size ** 0.5)
        self.weight_ih = nn.Parameter(torch.randn(hidden_size, input_size) / input_size ** 0.5)
        self.bias = nn.Parameter(torch.zeros(hidden_size))
        self.readout = nn.Linear(hidden_size, output_size)

    def forward(self, u):
        x = u.new_zeros(u.shape[0], self.weight_hh.shape[0])
        drives = (u @ self.weight_ih.T + self.bias).unbind(1)   # unbind: one backward for all steps
        outs = []
        for drive in drives:
            x = x + self.alpha * (-x + torch.tanh(x) @ self.weight_hh.T + drive)
            outs.append(torch.tanh(x))
        return self.readout(torch.stack(outs, 1))


# ------------------------------------------------------------------------------------------------------------ tasks
def flipflop_batch(gen, batch, steps, bits, channels=None, p=0.05, pulse_length=1):
    """Bits' pulses on channels 0..bits-1, distractor pulses on the others; targets hold each bit's last sign."""
    channels = channels or bits
    onsets = (torch.rand(batch, steps, channels, generator=gen) < p).float()
    signs = torch.where(torch.rand(batch, steps, channels, generator=gen) < 0.5, -1.0, 1.0)
    onsets = onsets * signs
    if pulse_length > 1:   # a pulse lasts pulse_length steps (a later onset overrides)
        inputs = torch.zeros_like(onsets)
        for t in range(steps):
            inputs[:, t] = onsets[:, t]
            for back in range(1, pulse_length):
                if t - back >= 0:
                    inputs[:, t] = torch.where(inputs[:, t] != 0, inputs[:, t], onsets[:, t - back])
        onset_signal = onsets
    else:
        inputs, onset_signal = onsets, onsets
    targets = torch.zeros(batch, steps, bits)
    held = torch.zeros(batch, bits)
    for t in range(steps):
        held = torch.where(onset_signal[:, t, :bits] != 0, onset_signal[:, t, :bits], held)
        targets[:, t] = held
    return inputs, targets


def ctx_batch(gen, batch, steps=60, context=None, noise=0.5):
    """Context-dependent integration. Returns inputs [B, T, 4], targets [B, T, 1], the relevant coherence [B]."""
    coh = (0.01 + 0.19 * torch.rand(batch, 2, generator=gen)) * torch.where(torch.rand(batch, 2, generator=gen) < 0.5, -1.0, 1.0)
    if context is None:
        ctx = (torch.rand(batch, generator=gen) < 0.5).long()
    else:
        ctx = torch.full((batch,), context, dtype=torch.long)
    stim = coh.unsqueeze(1) + noise * torch.randn(batch, steps, 2, generator=gen)
    inputs = torch.cat([stim, F.one_hot(ctx, 2).float().unsqueeze(1).expand(batch, steps, 2)], 2)
    relevant = stim.gather(2, ctx.view(-1, 1, 1).expand(batch, steps, 1))
    targets = torch.sign(torch.cumsum(relevant, 1))
    return inputs, targets, coh.gather(1, ctx.view(-1, 1))[:, 0]


def integrator_batch(gen, batch, steps=64, noise=0.2, drift=0.05):
    c = drift * (2 * torch.rand(batch, 1, 1, generator=gen) - 1)
    u = c + noise * torch.randn(batch, steps, 1, generator=gen)
    return u, torch.cumsum(u, 1)


# ------------------------------------------------------------------------------------------------------ definitions
SPECS = {
    "ctx64": dict(model=lambda: SeqNet("rnn", 4, 64, 1), task="ctx", iterations=1200, batch=128, lr=2e-3,
                  saved="state_dict", seed=2013),
    "integrator64": dict(model=lambda: SeqNet("rnn", 1, 64, 1), task="integrator", iterations=1200, batch=128,
                         lr=2e-3, saved="state_dict", seed=2014),
    "gru32_flipflop3": dict(model=lambda: SeqNet("gru", 3, 32, 3), task="flipflop", bits=3, channels=3, steps=100,
                            iterations=1000, batch=128, lr=5e-3, saved="checkpoint", seed=2015),
    "lstm20_flipflop2": dict(model=lambda: SeqNet("lstm", 2, 20, 2), task="flipflop", bits=2, channels=2, steps=100,
                             iterations=1000, batch=128, lr=5e-3, saved="module", seed=2016),
    "leaky64": dict(model=lambda: LeakyNet(2, 64, 2, alpha=0.1), task="flipflop", bits=2, channels=2, steps=150,
                    p=0.02, pulse_length=5, iterations=600, batch=64, lr=5e-3, saved="leaky_state_dict", seed=2017),
    "flipflop16": dict(model=lambda: SeqNet("rnn", 3, 16, 3), task="flipflop", bits=3, channels=3, steps=100,
                       iterations=2000, batch=128, lr=1e-2, saved="state_dict", seed=2018),
    "flipflop64": dict(model=lambda: SeqNet("rnn", 3, 64, 3), task="flipflop", bits=3, channels=3, steps=100,
                       iterations=1000, batch=64, lr=5e-3, saved="state_dict", seed=2019),
    "gru128x2": dict(model=lambda: SeqNet("gru", 8, 128, 3, num_layers=2), task="flipflop", bits=3, channels=8,
                     steps=48, iterations=300, batch=32, lr=3e-3, saved="module", seed=2020),
    "lstm128x2": dict(model=lambda: SeqNet("lstm", 8, 128, 3, num_layers=2), task="flipflop", bits=3, channels=8,
                      steps=48, iterations=300, batch=32, lr=3e-3, saved="checkpoint", seed=2021),
}


def task_batch(spec, gen, batch, context=None):
    """(inputs [B, T, I], targets [B, T, O], loss mask [B, T, O] or None, extra) for the network's task."""
    if spec["task"] == "ctx":
        x, y, coh = ctx_batch(gen, batch, context=context)
        mask = torch.zeros_like(y)
        mask[:, 10:] = 1
        return x, y, mask, coh
    if spec["task"] == "integrator":
        x, y = integrator_batch(gen, batch)
        return x, y, None, None
    x, y = flipflop_batch(gen, batch, spec["steps"], spec["bits"], spec["channels"], spec.get("p", 0.05),
                          spec.get("pulse_length", 1))
    return x, y, None, None


def loss_of(out, y, mask):
    if mask is None:
        return F.mse_loss(out, y)
    return ((out - y) ** 2 * mask).sum() / mask.sum()


def evaluate(spec, net, gen):
    with torch.no_grad():
        x, y, mask, extra = task_batch(spec, gen, 256)
        out = net(x)
        loss = loss_of(out, y, mask).item()
        if spec["task"] == "flipflop":
            held = y != 0
            return {"test_mse": loss, "sign_accuracy": (torch.sign(out[held]) == y[held]).float().mean().item()}
        if spec["task"] == "ctx":
            final = (torch.sign(out[:, -1, 0]) == y[:, -1, 0]).float().mean().item()
            late = (torch.sign(out[:, 10:]) == y[:, 10:]).float().mean().item()
            coh = (torch.sign(out[:, -1, 0]) == torch.sign(extra)).float().mean().item()
            return {"test_mse": loss, "sign_accuracy_last_step": final, "sign_accuracy_steps_10_59": late,
                    "accuracy_vs_coherence_sign": coh}
        resid = ((out - y) ** 2).sum().item()
        total = ((y - y.mean()) ** 2).sum().item()
        return {"test_mse": loss, "r2": 1 - resid / total}


def import_command(name, spec):
    path = f"bench/networks/{name}.pt"
    if spec["saved"] == "leaky_state_dict":
        return f"Import-RnnModel {path} -Architecture LeakyRnn -Alpha 0.1 -Nonlinearity Tanh"
    return f"Import-RnnModel {path}"


def describe(name, spec, net):
    if hasattr(net, "weight_hh"):   # a LeakyNet (of this module or of train_networks)
        h, i, layers, arch = net.weight_hh.shape[0], net.weight_ih.shape[1], 1, "LeakyRnn (alpha 0.1, tanh)"
        state = h
    else:
        r = net.rnn
        h, i, layers = r.hidden_size, r.input_size, r.num_layers
        arch = {nn.RNN: "nn.RNN tanh", nn.GRU: "nn.GRU", nn.LSTM: "nn.LSTM"}[type(r)]
        if layers > 1:
            arch += f", {layers} layers"
        state = h * layers * (2 if isinstance(r, nn.LSTM) else 1)
    u = [0.0] * i
    if spec["task"] == "ctx":
        u = [0.0, 0.0, 1.0, 0.0]
    tasks = {
        "ctx": "context-dependent integration (Mante et al. 2013): 2 noisy stimuli + one-hot context, output the sign "
               "of the cumulative mean of the relevant stimulus from step 10 of 60",
        "integrator": "running sum of a noisy input (c + 0.2 noise, c in [-0.05, 0.05]), 64 steps",
        "flipflop": f"{spec.get('bits')}-bit flip-flop (Sussillo & Barak 2013), {spec.get('steps')} steps, pulse "
                    f"probability {spec.get('p', 0.05)}"
                    + (f", {spec['pulse_length']}-step pulses" if spec.get("pulse_length", 1) > 1 else "")
                    + (f", {spec['channels'] - spec['bits']} distractor channels" if spec.get("channels", 0) > spec.get("bits", 0) else ""),
    }
    saved = {
        "state_dict": "torch.save(model.state_dict()): rnn.* and readout.*",
        "checkpoint": "training checkpoint {'epoch', 'model_state_dict' (rnn.*, readout.*), 'optimizer_state_dict'}",
        "module": "torch.save(model): whole train_networks.SeqNet (rnn, readout)",
        "leaky_state_dict": "state_dict with weight_hh, weight_ih, bias, readout.weight, readout.bias (readout of tanh(x))",
    }
    return {"file": f"{name}.pt", "architecture": arch, "input_size": i, "hidden_size": h, "num_layers": layers,
            "state_size": state, "output_size": net.readout.out_features, "task": tasks[spec["task"]],
            "saved_as": saved[spec["saved"]], "import_command": import_command(name, spec),
            "fixed_point_input": u}


def train(name, spec, out_dir, iterations=None):
    import train_networks as tn   # so that whole-module pickles name train_networks.SeqNet, not __main__.SeqNet
    torch.manual_seed(spec["seed"])
    gen = torch.Generator().manual_seed(spec["seed"])
    net = tn.SPECS[name]["model"]()
    opt = torch.optim.Adam(net.parameters(), lr=spec["lr"])
    iterations = iterations or spec["iterations"]
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, iterations, eta_min=0.05 * spec["lr"])
    start, history = time.perf_counter(), []
    for it in range(1, iterations + 1):
        x, y, mask, _ = task_batch(spec, gen, spec["batch"])
        loss = loss_of(net(x), y, mask)
        opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(net.parameters(), 1.0)
        opt.step()
        sched.step()
        if it % 100 == 0 or it == iterations:
            history.append([it, round(loss.item(), 6)])
            print(f"  {name} iteration {it}: loss {loss.item():.5f} ({time.perf_counter() - start:.0f} s)", flush=True)
            if loss.item() < spec.get("stop_loss", 0.0):
                iterations = it
                break
    seconds = time.perf_counter() - start
    metrics = evaluate(spec, net, torch.Generator().manual_seed(99))
    path = os.path.join(out_dir, f"{name}.pt")
    if spec["saved"] in ("state_dict", "leaky_state_dict"):
        torch.save(net.state_dict(), path)
    elif spec["saved"] == "checkpoint":
        torch.save({"epoch": iterations, "model_state_dict": net.state_dict(),
                    "optimizer_state_dict": opt.state_dict()}, path)
    else:
        torch.save(net, path)
    record = describe(name, spec, net)
    record.update({"training": {"optimizer": "Adam", "lr": spec["lr"], "lr_schedule": "cosine to 0.05 lr", "batch": spec["batch"], "iterations": iterations,
                                "gradient_clip": 1.0, "seed": spec["seed"], "seconds": round(seconds, 1),
                                "loss_history": history},
                   "accuracy": metrics, "file_bytes": os.path.getsize(path)})
    print(f"{name}: {json.dumps(metrics)} ({seconds:.0f} s, {os.path.getsize(path)} bytes)", flush=True)
    return record


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=os.path.join(HERE, "networks"))
    ap.add_argument("--only", nargs="*", help="train only these networks (networks.json keeps the others)")
    ap.add_argument("--iterations", type=int, help="override the iteration count (for trying things out)")
    args = ap.parse_args()
    torch.set_num_threads(1)
    os.makedirs(args.out, exist_ok=True)
    index_path = os.path.join(args.out, "networks.json")
    index = {}
    if os.path.exists(index_path):
        with open(index_path) as f:
            index = json.load(f).get("networks", {})
    for name, spec in SPECS.items():
        if args.only and name not in args.only:
            continue
        index[name] = train(name, spec, args.out, args.iterations)
    with open(index_path, "w") as f:
        json.dump({"generator": "bench/train_networks.py", "torch_version": torch.__version__, "threads": 1,
                   "networks": {k: index[k] for k in SPECS if k in index}}, f, indent=1)


if __name__ == "__main__":
    main()
