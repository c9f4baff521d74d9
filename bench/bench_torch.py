#!/usr/bin/env python3
"""The PyTorch side of ./build.ps1 -Task Bench: writes the shared models and states, then times
(1) the seed's own Linearization class, state by state, as its users call it, and
(2) a batched closed-form PyTorch implementation: the best a PyTorch user could write by hand.

    /usr/bin/python3 bench/bench_torch.py --out out/bench --threads 2
Writes out/bench/models/rnn_h{H}.pt, states_h{H}.npy, inputs_h{H}.npy, perturbations_h{H}.npy and
out/bench/torch.json (seconds per state for every workload).
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


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--threads", type=int, required=True)
    ap.add_argument("--sizes", default="64,256,1024")
    ap.add_argument("--states", type=int, default=2000)
    ap.add_argument("--pipeline-states", type=int, default=20000)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    os.makedirs(os.path.join(args.out, "models"), exist_ok=True)
    result = {"torch_version": torch.__version__, "threads": torch.get_num_threads(), "sizes": {}}
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

    # The pipeline workload: 20,000 states at hidden size 128.
    torch.manual_seed(128)
    rnn = nn.RNN(INPUT, 128, nonlinearity="tanh")
    torch.save(rnn.state_dict(), os.path.join(args.out, "models", "rnn_h128.pt"))
    np.save(os.path.join(args.out, "pipeline_states_h128.npy"), rng.uniform(-0.5, 0.5, (args.pipeline_states, 128)))
    with open(os.path.join(args.out, "torch.json"), "w") as f:
        json.dump(result, f, indent=1)


if __name__ == "__main__":
    main()
