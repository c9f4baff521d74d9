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

    /usr/bin/python3 bench/bench_fixedpoints.py --out out/bench --threads 1 --set issue17 [--only NAME ...]
The networks of issue 17, trained by bench/train_networks.py into bench/networks/ (see networks.json there): for each,
512 starts (--starts) drawn as the issue says, states of 16 trials of the network's own task (ctx64: all in the
context at which fixed points are searched) picked at random plus Gaussian noise of s.d. 0.1, written to
fp_starts_<name>.npy in the module's state convention (an LSTM's state is [h; c] per layer, layers concatenated:
[h_0; c_0; h_1; c_1]); then (1) the toolkits' Adam procedure as above, float32, through the network's own nn.RNN /
nn.GRU / nn.LSTM module (a plain-torch step for the leaky network), then filters and eigenvalues; (2) the batched
damped Newton solve in float64 (fixed_point_reference.newton_search, which takes least squares for
the rows whose J - I is singular) with plain-torch step equations and closed-form batched Jacobians (block lower
triangular for stacked layers; checked against autograd with --check), in chunks of starts when the Jacobians would
pass 256 MB. Fixed points are searched at the input of networks.json (zeros, ctx64 [0, 0, 1, 0]). The Adam points
kept by the filters are written as fp_adam_<name>.npy (states [P, S], float64 of the float32 result), their q as
fp_adam_q_<name>.npy, and the same points after Newton polishing (float64, up to 20 steps) as
fp_adam_polished_<name>.npy. The networks join fp_torch.json's existing entries (the file is read and rewritten),
each with the extra arguments of Import-RnnModel (import_args) and the input (input).
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
from fixed_point_reference import adam_search, batch_jacobian, newton_search, toolkit_points  # noqa: E402
sys.path.insert(0, HERE)
NETWORK_DIR = os.path.join(HERE, "networks")

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


# ------------------------------------------------------------------------------------------- issue 17's networks
def _rnn_layers(sd, prefix, dtype):
    layers, k = [], 0
    while f"{prefix}weight_ih_l{k}" in sd:
        layers.append({n: sd[f"{prefix}{n}_l{k}"].detach().to(dtype).clone()
                       for n in ("weight_ih", "weight_hh", "bias_ih", "bias_hh") if f"{prefix}{n}_l{k}" in sd})
        k += 1
    return layers


class Network:
    """One of issue 17's networks: its weights in float64 and float32, plain-torch step equations with closed-form
    batched Jacobians, and an nn module step (float32) for the toolkits' procedure. A state is the module's: h (RNN,
    GRU, leaky x), [h; c] (LSTM), layers concatenated."""

    def __init__(self, name, info, folder=NETWORK_DIR):
        import train_networks  # noqa: F401  (whole-module pickles name train_networks.SeqNet)
        self.name, self.info = name, info
        self.path = os.path.join(folder, info["file"])
        obj = torch.load(self.path)
        if isinstance(obj, nn.Module):
            sd = obj.state_dict()
        elif "model_state_dict" in obj:
            sd = obj["model_state_dict"]
        else:
            sd = obj
        self.sd = sd
        self.input_size, self.hidden = info["input_size"], info["hidden_size"]
        if "weight_hh" in sd:
            self.kind, self.alpha = "leaky", 0.1
        else:
            rows = sd["rnn.weight_hh_l0"].shape[0] // self.hidden
            self.kind = {1: "rnn", 3: "gru", 4: "lstm"}[rows]
        self.num_layers = info["num_layers"]
        self.per_layer = self.hidden * (2 if self.kind == "lstm" else 1)
        self.state_size = self.per_layer * self.num_layers
        assert self.state_size == info["state_size"]
        self.u = torch.tensor(info["fixed_point_input"], dtype=torch.float64)
        self.params = {dt: self._params(dt) for dt in (torch.float64, torch.float32)}

    def _params(self, dtype):
        if self.kind == "leaky":
            return {n: self.sd[n].detach().to(dtype).clone() for n in ("weight_hh", "weight_ih", "bias")}
        return _rnn_layers(self.sd, "rnn.", dtype)

    # -------------------------------------------------------------- plain-torch step and closed-form Jacobian
    def _cell(self, p, x, s, jac):
        """One layer: (next state, d next / d state [B, Sl, Sl], d next / d layer input [B, Sl, In]) or (next,)."""
        gi = x @ p["weight_ih"].T + p["bias_ih"]
        gh = s[:, :self.hidden] @ p["weight_hh"].T + p["bias_hh"]
        if self.kind == "rnn":
            h = torch.tanh(gi + gh)
            if not jac:
                return (h,)
            d = (1 - h * h).unsqueeze(2)
            return h, d * p["weight_hh"], d * p["weight_ih"]
        if self.kind == "gru":
            h0 = s
            i_r, i_z, i_n = gi.chunk(3, 1)
            h_r, h_z, h_n = gh.chunk(3, 1)
            r, z = torch.sigmoid(i_r + h_r), torch.sigmoid(i_z + h_z)
            n = torch.tanh(i_n + r * h_n)
            h = (1 - z) * n + z * h0
            if not jac:
                return (h,)
            wr, wz, wn = p["weight_hh"].chunk(3, 0)
            vr, vz, vn = p["weight_ih"].chunk(3, 0)
            zc = ((h0 - n) * z * (1 - z)).unsqueeze(2)
            nc = ((1 - z) * (1 - n * n)).unsqueeze(2)
            rc = (h_n * r * (1 - r)).unsqueeze(2)
            d_state = zc * wz + nc * (r.unsqueeze(2) * wn + rc * wr) + torch.diag_embed(z)
            d_in = zc * vz + nc * (vn + rc * vr)
            return h, d_state, d_in
        # LSTM, state [h; c]
        H = self.hidden
        c0 = s[:, H:]
        i, f, g, o = (gi + gh).chunk(4, 1)
        i, f, g, o = torch.sigmoid(i), torch.sigmoid(f), torch.tanh(g), torch.sigmoid(o)
        c = f * c0 + i * g
        tc = torch.tanh(c)
        h = o * tc
        nxt = torch.cat([h, c], 1)
        if not jac:
            return (nxt,)
        ci, cf, cg = (g * i * (1 - i)).unsqueeze(2), (c0 * f * (1 - f)).unsqueeze(2), (i * (1 - g * g)).unsqueeze(2)
        co, k = (tc * o * (1 - o)).unsqueeze(2), (o * (1 - tc * tc)).unsqueeze(2)
        out = []
        for w in (p["weight_hh"], p["weight_ih"]):
            wi, wf, wg, wo = w.chunk(4, 0)
            dc = ci * wi + cf * wf + cg * wg
            dh = co * wo + k * dc
            out.append((dh, dc))
        (dh_h, dc_h), (dh_x, dc_x) = out
        d_state = torch.cat([torch.cat([dh_h, torch.diag_embed(k[:, :, 0] * f)], 2),
                             torch.cat([dc_h, torch.diag_embed(f)], 2)], 1)
        return nxt, d_state, torch.cat([dh_x, dc_x], 1)

    def step_jac(self, u, s, jac=True):
        p = self.params[s.dtype]
        if self.kind == "leaky":
            a, r = self.alpha, torch.tanh(s)
            nxt = (1 - a) * s + a * (r @ p["weight_hh"].T + u @ p["weight_ih"].T + p["bias"])
            if not jac:
                return nxt, None
            j = a * p["weight_hh"].unsqueeze(0) * (1 - r * r).unsqueeze(1)
            return nxt, j + (1 - a) * torch.eye(self.state_size, dtype=s.dtype)
        B, L = s.shape[0], self.per_layer
        J = s.new_zeros(B, self.state_size, self.state_size) if jac else None
        x, parts = u, []
        for l, layer in enumerate(p):
            lo, hi = l * L, (l + 1) * L
            res = self._cell(layer, x, s[:, lo:hi], jac)
            parts.append(res[0])
            if jac:
                J[:, lo:hi, lo:hi] = res[1]
                if l > 0:   # through the layer's input, the previous layer's new h
                    J[:, lo:hi, :lo] = res[2] @ J[:, lo - L:lo - L + self.hidden, :lo]
            x = res[0][:, :self.hidden]
        return torch.cat(parts, 1), J

    def step(self, u, s):
        return self.step_jac(u, s, jac=False)[0]

    def jacobian(self, u, s):
        with torch.no_grad():
            return self.step_jac(u, s)[1]

    # ------------------------------------------------------------------- the nn module step (toolkits' Adam)
    def module_step(self, dtype=torch.float32):
        if self.kind == "leaky":
            return self.step
        cls = {"rnn": nn.RNN, "gru": nn.GRU, "lstm": nn.LSTM}[self.kind]
        extra = {"nonlinearity": "tanh"} if self.kind == "rnn" else {}
        rnn = cls(self.input_size, self.hidden, num_layers=self.num_layers, **extra).to(dtype)
        rnn.load_state_dict({k[4:]: v for k, v in self.sd.items() if k.startswith("rnn.")})
        for q in rnn.parameters():
            q.requires_grad_(False)
        L, H = self.num_layers, self.hidden

        if self.kind == "lstm":
            def step(u, s):
                st = s.reshape(s.shape[0], L, 2, H)
                h0, c0 = st[:, :, 0].transpose(0, 1).contiguous(), st[:, :, 1].transpose(0, 1).contiguous()
                _, (hn, cn) = rnn(u.unsqueeze(0), (h0, c0))
                return torch.stack([hn, cn], 2).transpose(0, 1).reshape(s.shape[0], -1)
        else:
            def step(u, s):
                _, hn = rnn(u.unsqueeze(0), s.reshape(s.shape[0], L, H).transpose(0, 1).contiguous())
                return hn.transpose(0, 1).reshape(s.shape[0], -1)
        return step

    # ------------------------------------------------------------------------------------------------ starts
    def starts(self, n, trials=16, seed=2018, noise=0.1):
        import train_networks
        spec = train_networks.SPECS[self.name]
        gen = torch.Generator().manual_seed(seed)
        context = 0 if spec["task"] == "ctx" else None   # ctx64: the context whose channel u has on
        if context is not None:
            assert self.info["fixed_point_input"][2 + context] == 1.0
        inputs = train_networks.task_batch(spec, gen, trials, context=context)[0].to(torch.float64)
        s = torch.zeros(trials, self.state_size, dtype=torch.float64)
        states = []
        with torch.no_grad():
            for t in range(inputs.shape[1]):
                s = self.step(inputs[:, t], s)
                states.append(s)
        states = torch.stack(states, 1).reshape(-1, self.state_size).numpy()
        rng = np.random.default_rng(seed)
        picked = states[rng.integers(0, len(states), n)]
        return picked + noise * rng.standard_normal(picked.shape)


def check_network(net):
    """The plain-torch step against the nn module, the closed-form Jacobian against autograd."""
    rng = np.random.default_rng(0)
    s = torch.tensor(rng.standard_normal((5, net.state_size)) * 0.5)
    u = torch.tensor(rng.standard_normal((5, net.input_size)))
    with torch.no_grad():
        step_err = (net.step(u, s) - net.module_step(torch.float64)(u, s)).abs().max().item()
    jac_err = (net.jacobian(u, s) - batch_jacobian(net.step, u, s)).abs().max().item()
    return step_err, jac_err


def newton_chunked(net, starts, u, budget_bytes=256 * 2 ** 20):
    chunk = max(1, min(len(starts), budget_bytes // (8 * net.state_size ** 2)))
    xs, qs, its = [], [], []
    for lo in range(0, len(starts), chunk):
        x, q, it = newton_search(net.step, starts[lo:lo + chunk], u, net.jacobian)
        xs.append(x), qs.append(q), its.append(it)
    return torch.cat(xs), torch.cat(qs), torch.cat(its)


def net_spectra(net, states):
    if len(states) == 0:
        return torch.zeros(0, net.state_size, dtype=torch.complex128)
    h = torch.tensor(states, dtype=torch.float64)
    return torch.linalg.eigvals(net.jacobian(net.u.reshape(1, -1).expand(len(h), -1), h))


def run_issue17(args, result):
    with open(os.path.join(args.networks, "networks.json")) as f:
        infos = json.load(f)["networks"]
    for name, info in infos.items():
        if args.only and name not in args.only:
            continue
        net = Network(name, info, args.networks)
        if args.check:
            step_err, jac_err = check_network(net)
            print(f"{name}: plain step vs nn module {step_err:.1e}, closed-form Jacobian vs autograd {jac_err:.1e}", flush=True)
        starts = net.starts(args.starts)
        starts_file = f"fp_starts_{name}.npy"
        np.save(os.path.join(args.out, starts_file), starts)
        u64 = net.u

        step32 = net.module_step(torch.float32)
        t = time.perf_counter()
        xs, qs, iterations = adam_search(step32, torch.tensor(starts, dtype=torch.float32), u64.float(),
                                         dtype=torch.float32, max_iters=args.adam_max_iters)
        adam_points = toolkit_points(xs.double().numpy(), qs.double().numpy(), starts)
        net_spectra(net, xs.double().numpy()[adam_points])
        adam_seconds = time.perf_counter() - t
        adam_states, adam_q = xs.double().numpy()[adam_points], qs.double().numpy()[adam_points]
        np.save(os.path.join(args.out, f"fp_adam_{name}.npy"), adam_states)
        np.save(os.path.join(args.out, f"fp_adam_q_{name}.npy"), adam_q)
        if len(adam_states):
            polished, polished_q, _ = newton_search(net.step, torch.tensor(adam_states), u64, net.jacobian,
                                                           max_iters=20)
            polished, polished_q = polished.numpy(), polished_q.numpy()
        else:
            polished, polished_q = adam_states, adam_q
        np.save(os.path.join(args.out, f"fp_adam_polished_{name}.npy"), polished)
        adam_moved = np.abs(polished - adam_states).max(1) if len(adam_states) else np.zeros(0)
        print(f"{name}: Adam {adam_seconds:.2f} s ({iterations} iterations, {len(adam_points)} points, "
              f"{int((qs <= 1e-12).sum())} of {len(starts)} starts below tol_q)", flush=True)

        newton_times = []
        for _ in range(3):
            t = time.perf_counter()
            nx, nq, nit = newton_chunked(net, torch.tensor(starts), u64)
            newton_points = toolkit_points(nx.numpy(), nq.numpy(), starts)
            spectra = net_spectra(net, nx.numpy()[newton_points])
            newton_times.append(time.perf_counter() - t)
            if newton_times[0] > 5:
                break
        newton_seconds = sorted(newton_times)[len(newton_times) // 2]
        newton_states = nx.numpy()[newton_points]
        covered = [bool(len(newton_states) and np.abs(newton_states - p).max(1).min() < 1e-6) for p in polished]
        stable = int((spectra.abs().max(1).values < 1).sum()) if len(newton_points) else 0
        result["networks"][name] = {
            "set": "issue17", "hidden": net.hidden, "state_size": net.state_size, "num_layers": net.num_layers,
            "architecture": info["architecture"], "starts": len(starts), "starts_file": starts_file,
            "model": os.path.abspath(net.path), "import_command": info["import_command"],
            "import_args": info["import_command"].split(" ", 2)[2] if info["import_command"].count(" ") > 1 else "",
            "input": info["fixed_point_input"],
            "adam": {"seconds": adam_seconds, "iterations": iterations, "max_iterations": args.adam_max_iters,
                     "points": len(adam_points), "below_tol_q": int((qs <= 1e-12).sum()),
                     "points_file": f"fp_adam_{name}.npy", "q_file": f"fp_adam_q_{name}.npy",
                     "polished_file": f"fp_adam_polished_{name}.npy",
                     "q": [float(v) for v in adam_q], "polished_q": [float(v) for v in polished_q],
                     "polish_moved_max": [float(v) for v in adam_moved]},
            "newton": {"seconds": newton_seconds, "runs": len(newton_times), "max_iterations": int(nit.max()),
                       "mean_iterations": float(nit.double().mean()), "points": len(newton_points),
                       "stable_points": stable, "below_tol_q": int((nq <= 1e-12).sum()), "max_q": float(nq.max()),
                       "covers_adam_points": int(sum(covered))},
        }
        print(f"{name}: Newton {newton_seconds:.3f} s ({int(nit.max())} iterations max, {len(newton_points)} points, "
              f"{stable} stable; {sum(covered)} of {len(polished)} polished Adam points among them)", flush=True)
        with open(os.path.join(args.out, "fp_torch.json"), "w") as f:   # after every network: a long run keeps its rows
            json.dump(result, f, indent=1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--set", default="bench", choices=["bench", "issue17"],
                    help="bench: the Bench task's two flip-flops (fp_torch.json written afresh); issue17: the networks "
                         "of bench/networks, added to the existing fp_torch.json")
    ap.add_argument("--only", nargs="*", help="issue17: only these networks")
    ap.add_argument("--networks", default=NETWORK_DIR, help="issue17: the folder of networks.json and the .pt files")
    ap.add_argument("--starts", type=int, default=512, help="issue17: starts per network")
    ap.add_argument("--adam-max-iters", type=int, default=5000, help="issue17: the Adam procedure's cap")
    ap.add_argument("--check", action="store_true", help="issue17: check the step and Jacobian equations first")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    os.makedirs(args.out, exist_ok=True)
    result = {"threads": args.threads, "torch_version": torch.__version__, "networks": {}}
    if args.set == "issue17":
        existing = os.path.join(args.out, "fp_torch.json")
        if os.path.exists(existing):
            with open(existing) as f:
                result = json.load(f)
        result.update({"threads": args.threads, "torch_version": torch.__version__})
        run_issue17(args, result)
        return
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
