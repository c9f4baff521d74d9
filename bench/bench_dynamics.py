#!/usr/bin/env python3
"""The reference side of the Bench's rows for issue 19 (selection vectors, the fixed-point graph, continuation):
the same work written in numpy as a user writes it in a notebook, on an nn.RNN tanh network (h' = tanh(W h + U u + b),
readout C), one thread (the caller sets OPENBLAS_NUM_THREADS).

    /usr/bin/python3 bench/bench_dynamics.py --model bench/flipflop256.pt --points out/bench/dyn_points.npz --out out/bench

--points holds `stable` and `saddles` (fixed points at input 0, from Find-RnnFixedPoint). Writes dyn_reference.json:
- selection: for every point, closed-form J and J_x, numpy eig and inv, the per-mode gains Re[(C r_k)(l_k J_x)/(1 - l_k)]
  (renn's eigsorted, then the products);
- graph: for every saddle, eig for its unstable modes, then all runs h* +- 1e-3 v stepped together in numpy until each is
  within 1e-3 of a stable point (or 5,000 steps);
- continuation: 100 steps of the algorithm's least work per step: one eigvals of J and three solves of the bordered
  (S + 1) x (S + 1) system (numpy.linalg.solve), at points along a branch (the same matrices each time: it times the
  linear algebra, not the path).
"""
import argparse
import json
import os
import time

import numpy as np
import torch


def load(path):
    sd = torch.load(path, map_location="cpu")
    key = lambda k: next(v for n, v in sd.items() if n.endswith(k)).double().numpy()
    return key("weight_hh_l0"), key("weight_ih_l0"), key("bias_ih_l0") + key("bias_hh_l0"), key("readout.weight")


def selection(w, wi, b, c, points):
    t = time.perf_counter()
    total = 0.0
    for h in points:
        d = 1 - np.tanh(w @ h + b) ** 2
        j, jx = d[:, None] * w, d[:, None] * wi
        lam, r = np.linalg.eig(j)
        left = np.linalg.inv(r)
        gains = np.real(((c @ r)[:, :, None] * (left @ jx)[None, :, :]).transpose(1, 0, 2) / (1 - lam)[:, None, None])
        total += gains.sum()
    return time.perf_counter() - t, float(total)


def graph(w, b, stable, saddles, eps=1e-3, tol=1e-3, max_steps=5000):
    t = time.perf_counter()
    starts = []
    for h in saddles:
        d = 1 - np.tanh(w @ h + b) ** 2
        lam, r = np.linalg.eig(d[:, None] * w)
        for k in np.where(np.abs(lam) > 1)[0]:
            if lam[k].imag < 0:
                continue
            unit = lambda v: v / np.linalg.norm(v)
            re = unit(np.real(r[:, k]))
            # A real mode both ways; a complex pair at 4 points of its circle, as the module does by default.
            directions = [re] if lam[k].imag == 0 else [re, unit(np.imag(r[:, k]))]
            for v in directions:
                starts += [h + eps * v, h - eps * v]
    x = np.array(starts)
    done = np.zeros(len(x), dtype=bool)
    settled = 0
    for _ in range(max_steps):
        x[~done] = np.tanh(x[~done] @ w.T + b)
        dist = np.linalg.norm(x[:, None, :] - stable[None, :, :], axis=2).min(1)
        newly = (~done) & (dist <= tol)
        settled += int(newly.sum())
        done |= newly
        if done.all():
            break
    return time.perf_counter() - t, len(starts), settled


def continuation(w, wi, b, h, steps=100):
    s = len(h)
    d = 1 - np.tanh(w @ h + b) ** 2
    j, jx = d[:, None] * w, d[:, None] * wi
    m = np.zeros((s + 1, s + 1))
    m[:s, :s] = j - np.eye(s)
    m[:s, s] = jx[:, 0]
    m[s, :] = 1.0 / np.sqrt(s + 1)
    rhs = np.ones(s + 1)
    t = time.perf_counter()
    for _ in range(steps):
        np.linalg.eigvals(j)
        for _ in range(3):
            np.linalg.solve(m, rhs)
    return time.perf_counter() - t


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--model", required=True)
    p.add_argument("--points", required=True)
    p.add_argument("--out", required=True)
    a = p.parse_args()
    w, wi, b, c = load(a.model)
    pts = np.load(a.points)
    stable, saddles = pts["stable"], pts["saddles"]
    everything = np.concatenate([stable, saddles])
    sel = min(selection(w, wi, b, c, everything)[0] for _ in range(3))
    g = [graph(w, b, stable, saddles) for _ in range(3)]
    cont = min(continuation(w, wi, b, stable[0]) for _ in range(3))
    result = {"numpy": np.__version__, "hidden": len(w), "points": len(everything),
              "selection_seconds": sel, "graph_seconds": min(x[0] for x in g), "graph_runs": g[0][1], "graph_settled": g[0][2],
              "continuation_seconds": cont, "continuation_steps": 100}
    with open(os.path.join(a.out, "dyn_reference.json"), "w") as f:
        json.dump(result, f, indent=1)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
