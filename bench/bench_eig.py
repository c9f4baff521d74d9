#!/usr/bin/env python3
"""The references for the Bench's top-modes rows, on the same Jacobians the module decomposes, one matrix at a time,
one thread: numpy's eig (LAPACK geev, with eigenvectors) and eigvals, the limit for the dense problem; and ARPACK
(scipy.sparse.linalg.eigs, k = 10, tol 1e-13: the module's own criterion, |r| <= 1e-13 |theta|) for the partial
one, the issue's reference: shift-invert
about 1 (sigma=1, one LU of J - I) for the modes nearest 1, and the largest modes by magnitude. Reads
jacobians_h<S>.npy ([N S, S] rows), writes eig_reference.json: seconds per matrix, the median over the matrices of the
best of three, ARPACK's largest residual |J v - lambda v| / |v| and how many matrices it did not converge on (those
count with the time they took; null where scipy is missing)."""
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


def arpack(mats, k, **kw):
    try:
        import scipy.sparse.linalg as ssl
    except ImportError:
        return None, None, None
    failed = 0

    def run(a):
        try:
            return ssl.eigs(a, k=k, tol=1e-13, **kw)
        except ssl.ArpackNoConvergence:
            return None

    seconds = per_matrix(run, mats)
    worst = 0.0
    for a in mats:   # outside the timing
        result = run(a)
        if result is None:
            failed += 1
            continue
        lam, v = result
        worst = max(worst, max(float(np.linalg.norm(a @ v[:, i] - lam[i] * v[:, i]) / np.linalg.norm(v[:, i])) for i in range(k)))
    return seconds, worst, failed


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--dir", required=True)
    p.add_argument("--sizes", required=True)
    a = p.parse_args()
    out = {"numpy": np.__version__}
    try:
        import scipy
        out["scipy"] = scipy.__version__
    except ImportError:
        out["scipy"] = None
    for s in [int(x) for x in a.sizes.split(",")]:
        rows = np.load(os.path.join(a.dir, f"jacobians_h{s}.npy"))
        mats = rows.reshape(-1, s, s)
        out[str(s)] = {"matrices": len(mats), "eig_seconds": per_matrix(np.linalg.eig, mats),
                       "eigvals_seconds": per_matrix(np.linalg.eigvals, mats)}
        near, near_res, near_failed = arpack(mats, 10, sigma=1.0)
        large, large_res, large_failed = arpack(mats, 10, which="LM")
        out[str(s)].update({"arpack_near_one_seconds": near, "arpack_near_one_residual": near_res, "arpack_near_one_failed": near_failed,
                            "arpack_magnitude_seconds": large, "arpack_magnitude_residual": large_res, "arpack_magnitude_failed": large_failed})
    with open(os.path.join(a.dir, "eig_reference.json"), "w") as f:
        json.dump(out, f, indent=1)


if __name__ == "__main__":
    main()
