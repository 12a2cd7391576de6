"""Benchmark: the skorch-based MLPTrainer and LSTMTrainer against a hand-written loop.

Both sides train the same PyTorch module class with the same sizes, AdamW settings,
batch size, number of epochs and shuffled mini-batches on the same 100,000 rows; the
hand-written loop gets its inputs already standardised and windowed, the trainer does
that itself (its overhead is part of what is measured). The hand loop is seeded with
the torch seed the trainer draws from its ``random_state``, so both start from the same
weights and draw the same batch orders and dropout masks: they compute the same
training, which the benchmark checks (the largest gap between their epoch losses,
0 when the arithmetic is identical), and no trajectory is slower than the other's
(denormal numbers, say). Prediction is timed the same
way: the trainer's ``predict`` on the raw rows against the module's forward pass over
the prepared inputs in mini-batches of the same size. The side that runs first
alternates between repeats. Prints each repeat and the
median of the per-repeat ratios trainer / hand loop of fit and of predict, by wall
clock and by CPU time; target: at most 1.10 each. On a shared machine single repeats
swing by 15% either way (the hand loop alone does), so the default is 15 repeats.

``--profile`` adds a measure that no noise moves: the Python-level calls per
mini-batch of each side (cProfile's call counts, the difference of two fits of
different lengths, so that per-fit costs cancel), and the functions the trainer
calls more often than the hand loop does.

Run: ``python benchmarks/bench_nets.py [--rows 100000] [--epochs 2] [--repeats 15]
[--device cpu] [--threads 1] [--profile] [--models MLPTrainer,LSTMTrainer]``.
"""

from __future__ import annotations

import argparse
import functools
import statistics
import time

import numpy as np


def hand_loop(make_module, X, y, *, epochs, batch_size, lr, weight_decay, device, seed):
    """A plain PyTorch training loop: the reference. Returns the module and the mean
    training loss of each epoch (weighted by batch size, as skorch records it)."""
    import torch

    torch.manual_seed(seed)
    module = make_module().to(device)
    X = torch.as_tensor(X, device=device)
    y = torch.as_tensor(y, device=device)
    optimizer = torch.optim.AdamW(module.parameters(), lr=lr, weight_decay=weight_decay)
    module.train()
    epoch_losses = []
    for _ in range(epochs):
        order = torch.randperm(len(X)).to(device)
        total = 0.0
        for start in range(0, len(X), batch_size):
            rows = order[start : start + batch_size]
            optimizer.zero_grad()
            loss = torch.nn.functional.mse_loss(module(X[rows])[:, 0], y[rows])
            loss.backward()
            optimizer.step()
            total += loss.item() * len(rows)
        epoch_losses.append(total / len(X))
    return module, epoch_losses


def hand_predict(module, X, *, batch_size, device):
    """A plain PyTorch prediction loop over prepared inputs: the reference."""
    import torch

    module.eval()
    X = torch.as_tensor(X, device=device)
    with torch.inference_mode():
        out = [module(X[start : start + batch_size]) for start in range(0, len(X), batch_size)]
    return torch.cat(out).cpu().numpy()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--features", type=int, default=20)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--profile", action="store_true", help="count calls per batch")
    parser.add_argument("--models", default="MLPTrainer,LSTMTrainer", help="comma-separated")
    args = parser.parse_args()

    import torch

    from skquant import LSTMTrainer, MLPTrainer
    from skquant.models._nets._base import mean_and_std, standardize
    from skquant.models._nets._modules import LSTMModule, MLPModule
    from skquant.models._nets._sequence import make_windows

    torch.set_num_threads(args.threads)
    rng = np.random.RandomState(0)
    X = rng.randn(args.rows, args.features)
    y = X[:, 0] - 0.5 * X[:, 1] + 0.1 * rng.randn(args.rows)
    # the inputs the trainers standardise for themselves, computed the same way
    Xs = standardize(X, *mean_and_std(X))
    ys = ((y - y.mean()) / y.std()).astype(np.float32)
    common = {
        "epochs": args.epochs,
        "batch_size": args.batch_size,
        "lr": 1e-3,
        "weight_decay": 1e-4,
    }
    trainer_common = {
        **common,
        "dropout": 0.1,
        "early_stopping_rounds": 0,
        "grad_clip": 0.0,
        "device": args.device,
        "random_state": 0,
    }
    seq_len = 10
    cases = {
        "MLPTrainer": (
            MLPTrainer(hidden_layer_sizes=[128, 64], **trainer_common),
            lambda: MLPModule(args.features, [128, 64], 0.1, 1),
            Xs,
        ),
        "LSTMTrainer": (
            LSTMTrainer(seq_len=seq_len, hidden_size=32, num_layers=1, **trainer_common),
            lambda: LSTMModule(args.features, 32, 1, 0.1, 1),
            make_windows(Xs, None, seq_len),
        ),
    }
    print(
        f"{args.rows} rows x {args.features} features, {args.epochs} epochs, "
        f"batch {args.batch_size}, "
        f"device={args.device}, torch threads={args.threads}"
    )
    for name, (trainer, make_module, inputs) in cases.items():
        if name not in args.models.split(","):
            continue
        # warm-up (lazy imports, allocator, CUDA context) outside the timings
        hand_loop(make_module, inputs[:2048], ys[:2048], device=args.device, seed=0, **common)
        trainer.fit(X[:2048], y[:2048]).predict(X[:2048])
        if args.profile:
            hand_fit = functools.partial(hand_loop, device=args.device, seed=0, **common)
            calls_per_batch(
                name, trainer, make_module, hand_fit, X, y, inputs, ys, args.batch_size, args.epochs
            )
        ratios = {"fit": [], "predict": [], "fit cpu": [], "predict cpu": []}
        loss_gaps = []
        for repeat in range(args.repeats):
            t = _Timer()
            # the torch seed the trainer draws from its random_state: both sides start
            # from the same weights and draw the same batch orders and dropout masks
            trainer.set_params(random_state=repeat)
            seed = int(np.random.RandomState(repeat).randint(np.iinfo(np.int32).max))
            hand_fit = functools.partial(
                hand_loop, make_module, inputs, ys, device=args.device, seed=seed, **common
            )
            # alternate which side goes first, so neither gains from the other's run
            if repeat % 2:
                t("trainer fit", trainer.fit, X, y)
            module, hand_losses = t("hand fit", hand_fit)
            if not repeat % 2:
                t("trainer fit", trainer.fit, X, y)
            trainer_losses = trainer.evals_result_["train"]["loss"]
            loss_gaps.append(
                max(abs(a - b) for a, b in zip(hand_losses, trainer_losses, strict=True))
            )
            hand_pred = functools.partial(
                hand_predict, module, inputs, batch_size=args.batch_size, device=args.device
            )
            if repeat % 2:
                t("trainer predict", trainer.predict, X)
            t("hand predict", hand_pred)
            if not repeat % 2:
                t("trainer predict", trainer.predict, X)
            for step in ("fit", "predict"):
                for clock in ("wall", "cpu"):
                    key = step if clock == "wall" else f"{step} cpu"
                    ratios[key].append(t.ratio(step, clock))
            print(
                f"  {name} repeat {repeat}: "
                + "; ".join(
                    f"{step} hand {t.wall['hand ' + step]:.2f}s trainer {t.wall['trainer ' + step]:.2f}s "
                    f"ratio {t.ratio(step, 'wall'):.3f} (cpu {t.ratio(step, 'cpu'):.3f})"
                    for step in ("fit", "predict")
                )
            )
        print(
            f"{name}: both sides trained the same trajectory: the largest gap between their "
            f"epoch losses is {max(loss_gaps):.1e}"
        )
        print(
            f"{name}: median ratio trainer / hand loop: "
            + ", ".join(f"{key} {statistics.median(v):.3f}" for key, v in ratios.items())
            + " (target <= 1.10)"
        )


def calls_per_batch(name, trainer, make_module, hand_fit, X, y, inputs, ys, batch_size, epochs):
    """Print the Python-level calls per training batch of the trainer and the hand loop.

    Each side fits 40 and 80 batches of rows under cProfile; the difference of the
    call counts over the 40 * epochs extra batches leaves out what each fit does once.
    """
    import cProfile
    import pstats

    def counts(run):
        profile = cProfile.Profile()
        profile.enable()
        run()
        profile.disable()
        stats = pstats.Stats(profile).stats
        return {
            func if path == "~" else f"{path.rsplit('/', 1)[-1]}:{func}": calls
            for (path, _, func), (_, calls, *_) in stats.items()
        }

    per_batch = {}
    for side in ("hand", "trainer"):
        fits = []
        for n_batches in (40, 80):
            rows = slice(0, n_batches * batch_size)
            if side == "hand":
                fits.append(counts(lambda rows=rows: hand_fit(make_module, inputs[rows], ys[rows])))
            else:
                fits.append(counts(lambda rows=rows: trainer.fit(X[rows], y[rows])))
        short, long = fits
        per_batch[side] = {
            key: (long.get(key, 0) - short.get(key, 0)) / (40 * epochs)
            for key in set(short) | set(long)
        }
    hand, lean = per_batch["hand"], per_batch["trainer"]
    print(
        f"{name}: Python-level calls per batch (cProfile): hand loop {sum(hand.values()):.0f}, "
        f"trainer {sum(lean.values()):.0f}; the trainer's extra calls:"
    )
    extra = sorted(
        ((lean.get(k, 0) - hand.get(k, 0), k) for k in set(hand) | set(lean)), reverse=True
    )
    print("   " + ", ".join(f"{key} +{count:g}" for count, key in extra[:10] if count > 0))


class _Timer:
    """Wall-clock and CPU (process) seconds of each timed call, by label."""

    def __init__(self):
        self.wall, self.cpu = {}, {}

    def __call__(self, label, func, *args, **kwargs):
        wall, cpu = time.perf_counter(), time.process_time()
        out = func(*args, **kwargs)
        self.wall[label] = time.perf_counter() - wall
        self.cpu[label] = time.process_time() - cpu
        return out

    def ratio(self, step, clock):
        seconds = self.wall if clock == "wall" else self.cpu
        return seconds[f"trainer {step}"] / seconds[f"hand {step}"]


if __name__ == "__main__":
    main()
