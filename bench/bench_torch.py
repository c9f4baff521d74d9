#!/usr/bin/env python3
"""The PyTorch side of ./build.ps1 -Task Bench: writes the shared models and states, then times
(1) the seed's own Linearization class, state by state, as its users call it, and
(2) a batched closed-form PyTorch implementation: the best a PyTorch user could write by hand.
For GRU and LSTM cells (which the seed cannot take) the per-state column is what a seed user would do instead:
torch.autograd.functional.jacobian per state; the batched column is the gates' closed form, checked here against
autograd before it is timed.

    /usr/bin/python3 bench/bench_torch.py --out out/bench --threads 2
Writes out/bench/models/rnn_h{H}.pt, states_h{H}.npy, inputs_h{H}.npy, perturbations_h{H}.npy,
models/{gru,lstm}_h{C}.pt, {gru,lstm}_states_h{C}.npy, cell_inputs_h{C}.npy and out/bench/torch.json (seconds per state for every workload).
"""
import argparse
import json
import os
import statistics
import sys
import time

import numpy as np
import torch
import torch.nn as nn

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "fixtures"))
from seed_linearization import Linearization  # noqa: E402

INPUT = 3
ROWS = 8   # perturbations per state in the Taylor workload


def timed(fn, repeats=3):
    """Median wall time of fn() over repeats."""
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def batches(n, size):
    return [(s, min(n, s + size)) for s in range(0, n, size)]


def gru_jacobians(x, h, w_ih, w_hh, b_ih, b_hh):
    """nn.GRU's Jacobians for a batch, in closed form: h' = (1 - z) n + z h, n = tanh(a_n + r (W_hn h + b_hn))."""
    H = h.shape[1]
    gi = x @ w_ih.T + b_ih
    gh = h @ w_hh.T + b_hh
    r = torch.sigmoid(gi[:, :H] + gh[:, :H])
    z = torch.sigmoid(gi[:, H:2 * H] + gh[:, H:2 * H])
    n = torch.tanh(gi[:, 2 * H:] + r * gh[:, 2 * H:])
    dr, dz, dn = r * (1 - r), z * (1 - z), 1 - n * n

    def through(w, via_r):   # d h' / d v for v = h (w = W_hh: W_hn is scaled by r) or x (w = W_ih)
        wr, wz, wn = w[:H], w[H:2 * H], w[2 * H:]
        dn_dv = dn.unsqueeze(2) * ((gh[:, 2 * H:] * dr).unsqueeze(2) * wr + (r.unsqueeze(2) * wn if via_r else wn))
        return (1 - z).unsqueeze(2) * dn_dv + ((h - n) * dz).unsqueeze(2) * wz

    jh = through(w_hh, True) + torch.diag_embed(z)
    jx = through(w_ih, False)
    return (1 - z) * n + z * h, jh, jx


def lstm_jacobians(x, s, w_ih, w_hh, b_ih, b_hh):
    """nn.LSTM's Jacobians of [h'; c'] with respect to [h; c] and x for a batch, in closed form."""
    H = s.shape[1] // 2
    h, c = s[:, :H], s[:, H:]
    a = x @ w_ih.T + h @ w_hh.T + b_ih + b_hh
    i, f, g, o = torch.sigmoid(a[:, :H]), torch.sigmoid(a[:, H:2 * H]), torch.tanh(a[:, 2 * H:3 * H]), torch.sigmoid(a[:, 3 * H:])
    c2 = f * c + i * g
    t = torch.tanh(c2)

    def through(w):
        dc = (c * f * (1 - f)).unsqueeze(2) * w[H:2 * H] + (g * i * (1 - i)).unsqueeze(2) * w[:H] + (i * (1 - g * g)).unsqueeze(2) * w[2 * H:3 * H]
        dh = (t * o * (1 - o)).unsqueeze(2) * w[3 * H:] + (o * (1 - t * t)).unsqueeze(2) * dc
        return dh, dc

    dhh, dch = through(w_hh)
    dhx, dcx = through(w_ih)
    jh = torch.cat([torch.cat([dhh, torch.diag_embed(o * (1 - t * t) * f)], 2), torch.cat([dch, torch.diag_embed(f)], 2)], 1)
    return torch.cat([o * t, c2], 1), jh, torch.cat([dhx, dcx], 1)


def cell_step(kind, module):
    """One state's update as the module sees it: state h (GRU) or [h; c] (LSTM), float64 or float32."""
    H = module.hidden_size
    if kind == "gru":
        return lambda x, h: module(x.view(1, 1, -1), h.view(1, 1, -1))[1].reshape(-1)
    def step(x, s):
        _, (h2, c2) = module(x.view(1, 1, -1), (s[:H].view(1, 1, -1), s[H:].view(1, 1, -1)))
        return torch.cat([h2.reshape(-1), c2.reshape(-1)])
    return step


def bench_cells(args, rng, result):
    """GRU and LSTM at hidden size C: per-state autograd (what the seed's approach gives) against the batched closed form."""
    hidden = args.cell_hidden
    inputs = rng.uniform(-1, 1, (args.states, INPUT))
    np.save(os.path.join(args.out, f"cell_inputs_h{hidden}.npy"), inputs)
    for kind, cls, width in (("gru", nn.GRU, hidden), ("lstm", nn.LSTM, 2 * hidden)):
        torch.manual_seed(hidden + len(kind))
        module = cls(INPUT, hidden)
        torch.save(module.state_dict(), os.path.join(args.out, "models", f"{kind}_h{hidden}.pt"))
        states = rng.uniform(-0.5, 0.5, (args.states, width))
        np.save(os.path.join(args.out, f"{kind}_states_h{hidden}.npy"), states)
        closed = gru_jacobians if kind == "gru" else lstm_jacobians
        m64 = cls(INPUT, hidden).double()
        m64.load_state_dict(module.state_dict())
        w = [getattr(m64, k).detach() for k in ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0")]
        Xd, Sd = torch.tensor(inputs), torch.tensor(states)

        # The closed form must be right before it is timed: against autograd on two states.
        step64 = cell_step(kind, m64)
        for k in range(2):
            jx_ref, jh_ref = torch.autograd.functional.jacobian(step64, (Xd[k], Sd[k]))
            _, jh, jx = closed(Xd[k:k + 1], Sd[k:k + 1], *w)
            assert torch.allclose(jh[0], jh_ref, rtol=1e-9, atol=1e-12), f"{kind} closed-form state Jacobian is wrong"
            assert torch.allclose(jx[0], jx_ref, rtol=1e-9, atol=1e-12), f"{kind} closed-form input Jacobian is wrong"

        step32 = cell_step(kind, module)
        X32, S32 = Xd.float(), Sd.float()
        per_n = max(2, 1280 // hidden)
        per_state = {
            "jacobian": timed(lambda: [torch.autograd.functional.jacobian(step32, (X32[k], S32[k])) for k in range(per_n)], 1) / per_n,
            "eig": timed(lambda: [torch.linalg.eig(torch.autograd.functional.jacobian(step32, (X32[k], S32[k]))[1]) for k in range(per_n)], 1) / per_n,
        }
        batch = max(1, min(256, (1 << 29) // (width * width * 8)))
        eig_n = min(args.states, max(2, 2 ** 21 // width ** 2))

        def jacobians():
            for s, e in batches(args.states, batch):
                closed(Xd[s:e], Sd[s:e], *w)

        def eigs():
            for s, e in batches(eig_n, batch):
                torch.linalg.eig(closed(Xd[s:e], Sd[s:e], *w)[1])

        batched = {"jacobian": timed(jacobians) / args.states, "eig": timed(eigs, 1) / eig_n}
        result["cells"][kind] = {"hidden": hidden, "state_size": width, "per_state": per_state, "per_state_n": per_n,
                                 "torch_batched": batched, "states": args.states, "eig_states": eig_n}
        print(f"{kind} hidden {hidden}: per-state autograd {per_state}, batched {batched}", flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--threads", type=int, required=True)
    ap.add_argument("--sizes", default="64,256,1024")
    ap.add_argument("--states", type=int, default=2000)
    ap.add_argument("--pipeline-states", type=int, default=20000)
    ap.add_argument("--cell-hidden", type=int, default=256)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    os.makedirs(os.path.join(args.out, "models"), exist_ok=True)
    result = {"torch_version": torch.__version__, "threads": torch.get_num_threads(), "sizes": {}, "cells": {}}
    rng = np.random.default_rng(0)

    for hidden in [int(s) for s in args.sizes.split(",")]:
        torch.manual_seed(hidden)
        rnn = nn.RNN(INPUT, hidden, nonlinearity="tanh")
        torch.save(rnn.state_dict(), os.path.join(args.out, "models", f"rnn_h{hidden}.pt"))
        states = rng.uniform(-0.5, 0.5, (args.states, hidden))
        inputs = rng.uniform(-1, 1, (args.states, INPUT))
        perturb = rng.normal(0, 0.01, (ROWS, hidden))
        for name, a in (("states", states), ("inputs", inputs), ("perturbations", perturb)):
            np.save(os.path.join(args.out, f"{name}_h{hidden}.npy"), a)
        dx = np.full(INPUT, 0.01)

        # (1) The seed, as written: float32 nn.RNN, one autograd pass per output unit, state by state.
        seed = Linearization(rnn)
        seed_n = {"jacobian": max(2, 2560 // hidden), "eig": max(1, 1280 // hidden), "taylor": max(2, 2560 // hidden)}
        S = torch.tensor(states, dtype=torch.float32)
        X = torch.tensor(inputs, dtype=torch.float32)
        P = torch.tensor(perturb, dtype=torch.float32)
        DX = torch.tensor(dx, dtype=torch.float32)
        seed_times = {
            "jacobian": timed(lambda: [seed.jacobian(X[k], S[k]) for k in range(seed_n["jacobian"])], 1) / seed_n["jacobian"],
            "eig": timed(lambda: [seed.eigendecomposition(X[k], S[k]) for k in range(seed_n["eig"])], 1) / seed_n["eig"],
            "taylor": timed(lambda: [seed.forward(X[k], S[k], DX, P) for k in range(seed_n["taylor"])], 1) / seed_n["taylor"],
        }

        # (2) Batched closed form in float64 (the module's default precision), results left as tensors.
        w_ih = rnn.weight_ih_l0.detach().double()
        w_hh = rnn.weight_hh_l0.detach().double()
        bias = (rnn.bias_ih_l0 + rnn.bias_hh_l0).detach().double()
        Sd = torch.tensor(states)
        Xd = torch.tensor(inputs)
        Pd = torch.tensor(perturb)
        DXd = torch.tensor(dx)
        jac_batch = max(1, min(256, (1 << 29) // (hidden * hidden * 8)))
        eig_n = min(args.states, max(2, 2 ** 21 // hidden ** 2))

        def jacobians():
            for s, e in batches(args.states, jac_batch):
                a = Xd[s:e] @ w_ih.T + Sd[s:e] @ w_hh.T + bias
                d = 1 - torch.tanh(a) ** 2
                jh = d.unsqueeze(2) * w_hh
                jx = d.unsqueeze(2) * w_ih

        def eigs():
            for s, e in batches(eig_n, jac_batch):
                a = Xd[s:e] @ w_ih.T + Sd[s:e] @ w_hh.T + bias
                jh = (1 - torch.tanh(a) ** 2).unsqueeze(2) * w_hh
                torch.linalg.eig(jh)

        def taylor():
            for s, e in batches(args.states, jac_batch):
                a = Xd[s:e] @ w_ih.T + Sd[s:e] @ w_hh.T + bias
                nxt = torch.tanh(a)
                d = 1 - nxt ** 2
                lin = nxt.unsqueeze(1) + d.unsqueeze(1) * (Pd @ w_hh.T + DXd @ w_ih.T).unsqueeze(0)

        batched_times = {
            "jacobian": timed(jacobians) / args.states,
            "eig": timed(eigs, 1) / eig_n,
            "taylor": timed(taylor) / args.states,
        }
        result["sizes"][str(hidden)] = {
            "seed": seed_times, "seed_states": seed_n, "torch_batched": batched_times,
            "states": args.states, "eig_states": eig_n,
        }
        print(f"hidden {hidden}: seed {seed_times}, batched {batched_times}", flush=True)

    bench_cells(args, rng, result)

    # The pipeline workload: 20,000 states at hidden size 128.
    torch.manual_seed(128)
    rnn = nn.RNN(INPUT, 128, nonlinearity="tanh")
    torch.save(rnn.state_dict(), os.path.join(args.out, "models", "rnn_h128.pt"))
    np.save(os.path.join(args.out, "pipeline_states_h128.npy"), rng.uniform(-0.5, 0.5, (args.pipeline_states, 128)))
    with open(os.path.join(args.out, "torch.json"), "w") as f:
        json.dump(result, f, indent=1)


if __name__ == "__main__":
    main()
