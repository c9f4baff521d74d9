#!/usr/bin/env python3
"""Trains the bundled example: a tanh nn.RNN on the 3-bit flip-flop task (Sussillo & Barak 2013).

Three input channels carry sparse +1/-1 pulses; each of three outputs must hold the sign of the last
pulse on its channel (0 before the first). Run with Debian's PyTorch (apt-get install python3-torch):
    /usr/bin/python3 examples/train_flipflop.py [--hidden 24] [--iterations 3000] [--out examples/flipflop_rnn]
Writes examples/flipflop_rnn.pt: the state_dict of a module with `rnn` (nn.RNN(3, 24)) and `readout`
(nn.Linear(24, 3)), so its keys are rnn.weight_ih_l0, ..., readout.weight, readout.bias;
and examples/flipflop_rnn.json with the training record. The Bench task's 256-unit network is
    /usr/bin/python3 examples/train_flipflop.py --hidden 256 --iterations 500 --out bench/flipflop256
"""
import argparse
import json
import os
import time

import torch
import torch.nn as nn

HERE = os.path.dirname(os.path.abspath(__file__))
CHANNELS, HIDDEN, STEPS, BATCH, PULSE_PROBABILITY = 3, 24, 100, 128, 0.05


def flipflop_batch(gen, batch=BATCH, steps=STEPS):
    pulses = (torch.rand(batch, steps, CHANNELS, generator=gen) < PULSE_PROBABILITY).float()
    signs = torch.where(torch.rand(batch, steps, CHANNELS, generator=gen) < 0.5, -1.0, 1.0)
    inputs = pulses * signs
    targets = torch.zeros_like(inputs)
    held = torch.zeros(batch, CHANNELS)
    for t in range(steps):
        held = torch.where(inputs[:, t] != 0, inputs[:, t], held)
        targets[:, t] = held
    return inputs, targets


class FlipFlop(nn.Module):
    def __init__(self, hidden=HIDDEN):
        super().__init__()
        self.rnn = nn.RNN(CHANNELS, hidden, nonlinearity="tanh", batch_first=True)
        self.readout = nn.Linear(hidden, CHANNELS)

    def forward(self, x):
        states, _ = self.rnn(x)
        return self.readout(states)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--hidden", type=int, default=HIDDEN)
    ap.add_argument("--iterations", type=int, default=3000)
    ap.add_argument("--out", default=os.path.join(HERE, "flipflop_rnn"), help="path without extension: writes .pt and .json")
    args = ap.parse_args()
    torch.manual_seed(2013)
    torch.set_num_threads(2)
    gen = torch.Generator().manual_seed(2013)
    net = FlipFlop(args.hidden)
    opt = torch.optim.Adam(net.parameters(), lr=3e-3)
    start, history = time.time(), []
    for it in range(1, args.iterations + 1):
        x, y = flipflop_batch(gen)
        loss = nn.functional.mse_loss(net(x), y)
        opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(net.parameters(), 1.0)
        opt.step()
        if it % 100 == 0:
            history.append([it, loss.item()])
            print(f"iteration {it}: loss {loss.item():.5f}", flush=True)
            if loss.item() < 2e-3:
                break
    with torch.no_grad():
        x, y = flipflop_batch(torch.Generator().manual_seed(99), batch=256)
        out = net(x)
        test_loss = nn.functional.mse_loss(out, y).item()
        held = y != 0
        accuracy = (torch.sign(out[held]) == y[held]).float().mean().item()
    torch.save(net.state_dict(), args.out + ".pt")
    record = {"task": "3-bit flip-flop", "hidden_size": args.hidden, "input_size": CHANNELS, "nonlinearity": "tanh",
              "pulse_probability": PULSE_PROBABILITY, "sequence_length": STEPS, "iterations": history[-1][0],
              "train_loss_history": history, "test_mse": test_loss, "test_sign_accuracy": accuracy,
              "seconds": round(time.time() - start, 1), "torch_version": torch.__version__}
    with open(args.out + ".json", "w") as f:
        json.dump(record, f, indent=1)
    print(f"test mse {test_loss:.5f}, sign accuracy {accuracy:.4f}")


if __name__ == "__main__":
    main()
