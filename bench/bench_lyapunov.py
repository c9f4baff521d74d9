"""The reference side of the Lyapunov rows of the Bench: the per-step work of Engelken's demo
(RainerEngelken/RNN-LyapunovSpectra, demo_lypunov_spectra_chaotic_ratenetwork.py), rewritten here in numpy as it does it,
on its rate network x' = (1 - dt) x + dt W tanh(x), W = g N(0, 1/N) without autapses, g = 4, dt = 0.1: 1,000 transient
steps (state only), then 1,000 steps carrying the tangent vectors (not averaged), then 10,000 averaged steps; the full
spectrum; each step forms D = (1 - dt) I + W * dt / cosh(x)^2 (column-scaled) and multiplies Q by it; QR every 10 steps.
Writes lyap_<N>.pt (the network as the module's LeakyRnn state_dict, alpha = dt) and lyap_reference.json (seconds,
exponents) into --out. Threads: whatever numpy's BLAS is told (the caller sets OPENBLAS_NUM_THREADS).
"""
import argparse
import json
import math
import os
import time

import numpy as np
import torch


def network(n, g, seed):
    w = g * np.random.RandomState(seed).randn(n, n) / math.sqrt(n)
    np.fill_diagonal(w, 0.0)
    return w


def reference(w, dt, transient, transient_ons, steps, every, seed):
    n = len(w)
    x = (4.0 - 1) * np.random.RandomState(seed).randn(n)
    q, _ = np.linalg.qr(np.random.RandomState(seed + 1).randn(n, n))
    diag = np.eye(n) * (1 - dt)
    sums = np.zeros(n)
    for t in range(transient + transient_ons + steps):
        x_next = x * (1 - dt) + w @ np.tanh(x) * dt
        if t + 1 > transient:
            d = diag + w * (dt / np.cosh(x) ** 2)
            q = d @ q
            if (t + 1) % every == 0:
                q, r = np.linalg.qr(q)
                if t + 1 > transient + transient_ons:
                    sums += np.log(np.abs(np.diag(r)))
        x = x_next
    return sums / steps


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", required=True)
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 200, 400])
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    dt, g, transient, transient_ons, steps, every = 0.1, 4.0, 1000, 1000, 10000, 10
    result = {"dt": dt, "g": g, "transient": transient, "transient_ons": transient_ons, "steps": steps, "every": every,
              "numpy": np.__version__, "networks": {}}
    for n in args.sizes:
        w = network(n, g, seed=n)
        torch.save({"weight_hh": torch.tensor(w), "weight_ih": torch.zeros(n, 1, dtype=torch.float64)}, os.path.join(args.out, f"lyap_{n}.pt"))
        t = time.perf_counter()
        exponents = reference(w, dt, transient, transient_ons, steps, every, seed=1)
        seconds = time.perf_counter() - t
        result["networks"][str(n)] = {"file": f"lyap_{n}.pt", "seconds": seconds, "exponents": exponents.tolist()}
        print(f"N = {n}: reference {seconds:.2f} s, largest exponent {exponents[0] / dt:.4f} per tau", flush=True)
    with open(os.path.join(args.out, "lyap_reference.json"), "w") as f:
        json.dump(result, f)


if __name__ == "__main__":
    main()
