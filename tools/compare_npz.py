"""Compares two .npz files array by array, as numpy reads them: same names, shapes and dtype kinds; floats equal to
1e-12 relative to the array's largest magnitude (an imaginary part near 0 moves with its eigenvalue's rounding), or
within 1e-24 (q = 1/2 |F(h) - h|^2 at its rounding floor, about 1e-31, is noise; so is |grad q| there, about 1e-16:
Gradient within 1e-14); eigenvectors up to their phase
(which LAPACK may choose differently when the batch around a state differs); a fixed point's Iterations within one (a
search stops where q meets its rounding floor, so an ulp of difference between processes can add a step);
other integers, booleans and text exactly.
Prints "same <arrays> <rows> <index>", index "ordered" when Index holds every number from 0 once, in order, else "-".
Exits 1 on the first difference."""
import sys

import numpy as np

a, b = np.load(sys.argv[1]), np.load(sys.argv[2])
if sorted(a.files) != sorted(b.files):
    sys.exit(f"arrays differ: {sorted(a.files)} vs {sorted(b.files)}")
for k in a.files:
    x, y = a[k], b[k]
    if x.shape != y.shape or x.dtype.kind != y.dtype.kind:
        sys.exit(f"{k}: {x.dtype}{x.shape} vs {y.dtype}{y.shape}")
    if k == "Eigenvectors":
        overlap = np.abs(np.einsum("nik,nik->nk", np.conj(x), y))
        if not np.allclose(overlap, 1, rtol=0, atol=1e-9):
            sys.exit(f"{k}: eigenvectors differ beyond their phase")
    elif x.dtype.kind in "fc":
        scale = np.nanmax(np.abs(x)) if x.size and np.isfinite(x).any() else 0.0
        floor = 1e-14 if k == "Gradient" else 1e-24
        if not np.allclose(x, y, rtol=1e-12, atol=1e-12 * scale + floor, equal_nan=True):
            sys.exit(f"{k}: differs by up to {np.nanmax(np.abs(x - y))}")
    elif k == "Iterations":
        if np.abs(x.astype(np.int64) - y.astype(np.int64)).max(initial=0) > 1:
            sys.exit(f"{k}: differs by more than one step")
    elif not (x == y).all():
        sys.exit(f"{k}: differs")
rows = len(a[a.files[0]])
index = "ordered" if "Index" in a.files and a["Index"].tolist() == list(range(rows)) else "-"
print("same", len(a.files), rows, index)
