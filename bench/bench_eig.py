#!/usr/bin/env python3
"""The LAPACK limit for the Bench's top-modes rows: numpy's eig (geev, with eigenvectors) and eigvals on the same
Jacobians the module decomposes, one matrix at a time, one thread. Reads jacobians_h<S>.npy ([N S, S] rows),
writes eig_reference.json: seconds per matrix, the median over the matrices of the best of three."""
import argparse
import json
import os
import time

import numpy as np


def per_matrix(f, mats):
    times = []
    for a in mats:
        best = float("inf")
        for _ in range(3):
            t = time.perf_counter()
            f(a)
            best = min(best, time.perf_counter() - t)
        times.append(best)
    return float(np.median(times))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--dir", required=True)
    p.add_argument("--sizes", required=True)
    a = p.parse_args()
    out = {"numpy": np.__version__}
    for s in [int(x) for x in a.sizes.split(",")]:
        rows = np.load(os.path.join(a.dir, f"jacobians_h{s}.npy"))
        mats = rows.reshape(-1, s, s)
        out[str(s)] = {"matrices": len(mats), "eig_seconds": per_matrix(np.linalg.eig, mats),
                       "eigvals_seconds": per_matrix(np.linalg.eigvals, mats)}
    with open(os.path.join(a.dir, "eig_reference.json"), "w") as f:
        json.dump(out, f, indent=1)


if __name__ == "__main__":
    main()
