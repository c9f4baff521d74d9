#!/usr/bin/env python3
"""The PyTorch side of the fixed-point rows of ./build.ps1 -Task Bench.

    /usr/bin/python3 bench/bench_fixedpoints.py --out out/bench --threads 1
For the bundled flip-flop network (24 units, 1,024 starts) and a 256-unit one (bench/flipflop256.pt, trained by
examples/train_flipflop.py --hidden 256 --iterations 500; 256 starts), draws starts as the toolkits do (states of
a trajectory under random pulses plus Gaussian noise of s.d. 0.5), writes them to fp_starts_h{H}.npy, and times
(1) the toolkits' procedure (fixed_point_reference.adam_search with Golub & Sussillo's defaults: Adam, lr 1.0 cut by
0.95 on plateaus, tol_q 1e-12, tol_dq 1e-20, 5,000 iterations, float32) and (2) a batched damped Newton solve in
float64 with the closed-form Jacobian diag(1 - h'^2) W_hh; each followed by the toolkit's filters and the eigenvalues
of the Jacobian at each point kept (the toolkit's decompose_jacobians; the module reports them too). Writes fp_torch.json.
"""
import argparse
import json
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "fixtures"))
from fixed_point_reference import adam_search, newton_search, toolkit_points  # noqa: E402

NETWORKS = [("flipflop24", os.path.join(HERE, "..", "examples", "flipflop_rnn.pt"), 1024),
            ("flipflop256", os.path.join(HERE, "flipflop256.pt"), 256)]


def load(path, dtype):
    sd = torch.load(path)
    hidden, inputs = sd["rnn.weight_hh_l0"].shape[0], sd["rnn.weight_ih_l0"].shape[1]
    rnn = nn.RNN(inputs, hidden, nonlinearity="tanh").to(dtype)
    rnn.load_state_dict({k[4:]: v for k, v in sd.items() if k.startswith("rnn.")})
    for p in rnn.parameters():
        p.requires_grad_(False)
    return rnn


def step_of(rnn):
    def step(u, h):
        _, hn = rnn(u.unsqueeze(0), h.unsqueeze(0))
        return hn[0]
    return step


def closed_form_jacobian(rnn):
    w = rnn.weight_hh_l0

    def jac(u, h):
        with torch.no_grad():
            nxt = step_of(rnn)(u, h)
        return (1 - nxt * nxt).unsqueeze(2) * w.unsqueeze(0)
    return jac


def spectra(rnn64, states):
    """Eigenvalues of the Jacobian at the points, as the toolkit decomposes them."""
    h = torch.tensor(states, dtype=torch.float64)
    return torch.linalg.eigvals(closed_form_jacobian(rnn64)(torch.zeros(len(h), rnn64.input_size, dtype=torch.float64), h))


def starts_for(rnn, n, rng):
    """A 600-step trajectory under random +-1 pulses (probability 0.05 per channel and step), sampled with noise 0.5."""
    inputs = rng.random((600, rnn.input_size)) < 0.05
    inputs = np.where(rng.random(inputs.shape) < 0.5, -1.0, 1.0) * inputs
    with torch.no_grad():
        states, _ = rnn(torch.tensor(inputs, dtype=torch.float64).unsqueeze(1), torch.zeros(1, 1, rnn.hidden_size, dtype=torch.float64))
    states = states[:, 0].numpy()
    picked = states[rng.integers(0, len(states), n)]
    return picked + 0.5 * rng.standard_normal(picked.shape)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    os.makedirs(args.out, exist_ok=True)
    result = {"threads": args.threads, "torch_version": torch.__version__, "networks": {}}
    for name, path, n in NETWORKS:
        rng = np.random.default_rng(2018)
        rnn64 = load(path, torch.float64)
        starts = starts_for(rnn64, n, rng)
        hidden = rnn64.hidden_size
        np.save(os.path.join(args.out, f"fp_starts_h{hidden}.npy"), starts)
        u = torch.zeros(rnn64.input_size)

        rnn32 = load(path, torch.float32)
        t = time.perf_counter()
        xs, qs, iterations = adam_search(step_of(rnn32), torch.tensor(starts, dtype=torch.float32), u, dtype=torch.float32)
        adam_points = toolkit_points(xs.double().numpy(), qs.double().numpy(), starts)
        spectra(rnn64, xs.double().numpy()[adam_points])
        adam_seconds = time.perf_counter() - t

        newton_times = []
        for _ in range(3):
            t = time.perf_counter()
            nx, nq, nit = newton_search(step_of(rnn64), torch.tensor(starts), u.double(), jacobian=closed_form_jacobian(rnn64))
            newton_points = toolkit_points(nx.numpy(), nq.numpy(), starts)
            spectra(rnn64, nx.numpy()[newton_points])
            newton_times.append(time.perf_counter() - t)
        result["networks"][name] = {
            "hidden": hidden, "starts": n, "starts_file": f"fp_starts_h{hidden}.npy", "model": os.path.abspath(path),
            "adam": {"seconds": adam_seconds, "iterations": iterations, "points": len(adam_points),
                     "below_tol_q": int((qs <= 1e-12).sum())},
            "newton": {"seconds": sorted(newton_times)[1], "max_iterations": int(nit.max()), "points": len(newton_points),
                       "max_q": float(nq.max())},
        }
        print(f"{name}: Adam {adam_seconds:.2f} s ({iterations} iterations, {len(adam_points)} points); "
              f"Newton {sorted(newton_times)[1]:.3f} s ({int(nit.max())} iterations, {len(newton_points)} points)", flush=True)
    with open(os.path.join(args.out, "fp_torch.json"), "w") as f:
        json.dump(result, f, indent=1)


if __name__ == "__main__":
    main()
