#!/usr/bin/env python3
"""Reference next states and Jacobians for the real-world corpus (../shared/realworld), from its reference_steps.py.

    /usr/bin/python3 tools/realworld_reference.py <corpus folder> <out.json> [states per file]
For each manifest entry: random states (N(0, 0.25)) and inputs (N(0, 1)), F(state, input) and both Jacobians by
torch.autograd.functional.jacobian in float64. tools/Compare-RealWorld.ps1 runs it and compares the module with it.
"""
import json
import os
import sys

import torch

folder, out = sys.argv[1], sys.argv[2]
count = int(sys.argv[3]) if len(sys.argv) > 3 else 7
sys.path.insert(0, folder)
from reference_steps import build  # noqa: E402

torch.set_default_dtype(torch.float64)
manifest = json.load(open(os.path.join(folder, "manifest.json")))
gen = torch.Generator().manual_seed(11)
records = []
for entry in manifest["entries"]:
    F, S, I = build(entry["file"], folder)
    for k in range(count):
        s = 0.5 * torch.randn(S, generator=gen)
        u = torch.randn(I, generator=gen)
        with torch.no_grad():
            nxt = F(s, u)
        jh, ju = torch.autograd.functional.jacobian(lambda a, b: F(a, b), (s, u))
        records.append({"file": entry["file"], "command": entry["import_command"], "state": s.tolist(), "input": u.tolist(),
                        "next": nxt.tolist(), "jh": jh.tolist(), "ju": ju.tolist()})
json.dump(records, open(out, "w"))
print(f"{len(records)} states over {len(manifest['entries'])} files")
