"""Benchmark: TransformerTrainer's gradient checkpointing, peak memory and time, on CPU.

Fits ``TransformerTrainer`` with ``gradient_checkpointing=False`` and ``True`` on the
same rows (same seed, sizes and batch order), and, as the reference, a hand-written
PyTorch loop over the same layers (``nn.TransformerEncoderLayer``, pre-norm, causal
mask) without and with ``torch.utils.checkpoint.checkpoint`` per layer. Each fit runs in
a fresh subprocess, which first fits once on a few rows (imports, allocator, thread
pool) and then records its peak resident memory (``ru_maxrss``) before and after the
measured fit: the growth is the memory that fit needed on top of the process, mostly
the activations kept for the backward pass (the allocator's fragmentation included,
as a user's process sees it). The order of the four cases alternates between repeats.
The peak depends on the batch, not on the number of rows. The trainer's fit also
ranks the features by permutation (forward passes only, the same with and without
checkpointing), so its time ratio is nearer 1 than the hand loop's.

Prints each run, then per side the median peak growth and fit time (wall clock and
CPU time; with one torch thread the CPU time moves less with other jobs) and the ratios
checkpointed / plain, and the largest gap between the trainer's predictions with and
without checkpointing (0 when the arithmetic is the same, as it is on CPU). No
assertion: memory and time depend on the machine, torch's attention kernel and the
load of other jobs.

Run: ``python benchmarks/bench_checkpointing.py [--rows 2048] [--seq-len 60]
[--batch-size 512] [--layers 4] [--d-model 64] [--repeats 3] [--threads 1]``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np


def _data(rows, features, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.randn(rows, features)
    y = np.r_[np.zeros(3), X[:-3, 0]] + 0.1 * rng.randn(rows)
    return X, y


def _hand_module(args):
    import torch
    from torch import nn

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.proj = nn.Linear(args.features, args.d_model)
            self.layers = nn.ModuleList(
                nn.TransformerEncoderLayer(
                    args.d_model,
                    args.heads,
                    4 * args.d_model,
                    0.1,
                    batch_first=True,
                    norm_first=True,
                )
                for _ in range(args.layers)
            )
            self.head = nn.Linear(args.d_model, 1)

        def forward(self, X, ckpt):
            h = self.proj(X)
            n = h.shape[1]
            mask = torch.triu(torch.full((n, n), float("-inf")), diagonal=1)
            for layer in self.layers:
                if ckpt:
                    h = torch.utils.checkpoint.checkpoint(
                        layer, h, mask, None, True, use_reentrant=False
                    )
                else:
                    h = layer(h, src_mask=mask, is_causal=True)
            return self.head(h[:, -1])[:, 0]

    return Net()


def _hand_fit(args, X, y, ckpt):
    """A plain PyTorch loop over windows of the rows (one series), the reference."""
    import torch

    from skquant.models._nets._sequence import make_windows

    torch.manual_seed(0)
    W = torch.as_tensor(make_windows(((X - X.mean(0)) / X.std(0)), None, args.seq_len))
    t = torch.as_tensor(((y - y.mean()) / y.std()).astype(np.float32))
    net = _hand_module(args)
    opt = torch.optim.AdamW(net.parameters(), lr=1e-3)
    net.train()
    for _ in range(args.epochs):
        order = torch.randperm(len(W))
        for start in range(0, len(W), args.batch_size):
            rows = order[start : start + args.batch_size]
            opt.zero_grad()
            loss = torch.nn.functional.mse_loss(net(W[rows], ckpt), t[rows])
            loss.backward()
            opt.step()


def _trainer(args, ckpt):
    from skquant import TransformerTrainer

    return TransformerTrainer(
        seq_len=args.seq_len,
        d_model=args.d_model,
        n_heads=args.heads,
        num_layers=args.layers,
        dim_feedforward=4 * args.d_model,
        gradient_checkpointing=ckpt,
        epochs=args.epochs,
        batch_size=args.batch_size,
        lr=1e-3,
        dropout=0.1,
        early_stopping_rounds=0,
        grad_clip=0.0,
        device="cpu",
        random_state=0,
    )


def child(args) -> None:
    """One measured fit in this process; prints a JSON line."""
    import warnings

    import torch

    torch.set_num_threads(args.threads)
    warnings.simplefilter("ignore")  # the rows are one series without dates, on purpose
    ckpt = bool(args.ckpt)
    X, y = _data(args.rows, args.features)
    small = slice(0, 2 * args.seq_len)
    if args.side == "trainer":  # warm-up: imports, thread pool, allocator
        _trainer(args, ckpt).set_params(epochs=1, batch_size=32).fit(X[small], y[small])
    else:
        _hand_fit(argparse.Namespace(**{**vars(args), "batch_size": 32}), X[small], y[small], ckpt)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t0, c0 = time.perf_counter(), time.process_time()
    if args.side == "trainer":
        trainer = _trainer(args, ckpt).fit(X, y)
    else:
        _hand_fit(args, X, y, ckpt)
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    if args.side == "trainer":
        np.save(args.pred, trainer.predict(X))
    print(json.dumps({"growth_mib": (after - before) / 1024, "fit_s": seconds, "cpu_s": cpu}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2048)
    parser.add_argument("--features", type=int, default=16)
    parser.add_argument("--seq-len", type=int, default=60)
    parser.add_argument("--batch-size", type=int, default=512)
    parser.add_argument("--layers", type=int, default=4)
    parser.add_argument("--d-model", type=int, default=64)
    parser.add_argument("--heads", type=int, default=4)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--side", default="trainer", help=argparse.SUPPRESS)
    parser.add_argument("--ckpt", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--pred", default="", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return

    import torch

    print(
        f"TransformerTrainer on CPU: {args.rows} rows x {args.features} features, "
        f"seq_len {args.seq_len}, batch {args.batch_size}, {args.layers} layers, "
        f"d_model {args.d_model}, {args.heads} heads, feed-forward {4 * args.d_model}, "
        f"{args.epochs} epoch(s), torch {torch.__version__}, threads={args.threads}"
    )
    cases = [(side, ckpt) for side in ("trainer", "hand loop") for ckpt in (0, 1)]
    results = {case: [] for case in cases}
    with tempfile.TemporaryDirectory() as tmp:
        preds = {ckpt: os.path.join(tmp, f"pred{ckpt}.npy") for ckpt in (0, 1)}
        for r in range(args.repeats):
            for side, ckpt in cases if r % 2 == 0 else cases[::-1]:
                command = [sys.executable, __file__, "--child", "--side", side.split()[0]]
                command += ["--ckpt", str(ckpt), "--pred", preds[ckpt]]
                for key in ("rows", "features", "seq_len", "batch_size", "layers"):
                    command += [f"--{key.replace('_', '-')}", str(getattr(args, key))]
                for key in ("d_model", "heads", "epochs", "threads"):
                    command += [f"--{key.replace('_', '-')}", str(getattr(args, key))]
                out = subprocess.run(command, capture_output=True, text=True, check=True)
                result = json.loads(out.stdout.strip().splitlines()[-1])
                results[side, ckpt].append(result)
                print(
                    f"repeat {r}: {side:9s} checkpointing={bool(ckpt)!s:5s} "
                    f"peak growth {result['growth_mib']:7.1f} MiB, fit {result['fit_s']:6.2f} s "
                    f"wall ({result['cpu_s']:6.2f} s CPU)"
                )
        gap = float(np.abs(np.load(preds[1]) - np.load(preds[0])).max())
    for side in ("trainer", "hand loop"):
        med = {
            (ckpt, key): statistics.median(r[key] for r in results[side, ckpt])
            for ckpt in (0, 1)
            for key in ("growth_mib", "fit_s", "cpu_s")
        }
        print(
            f"{side}: median peak growth {med[0, 'growth_mib']:.1f} -> {med[1, 'growth_mib']:.1f} MiB "
            f"(ratio checkpointed / plain {med[1, 'growth_mib'] / med[0, 'growth_mib']:.2f}), "
            f"fit {med[0, 'fit_s']:.2f} -> {med[1, 'fit_s']:.2f} s wall "
            f"(ratio {med[1, 'fit_s'] / med[0, 'fit_s']:.2f}), "
            f"{med[0, 'cpu_s']:.2f} -> {med[1, 'cpu_s']:.2f} s CPU "
            f"(ratio {med[1, 'cpu_s'] / med[0, 'cpu_s']:.2f})"
        )
    print(f"trainer: largest |prediction gap| checkpointed vs plain (last repeat): {gap:.3g}")


if __name__ == "__main__":
    main()
