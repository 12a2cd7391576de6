"""PyTorch pieces of the skquant nets: modules, the packed loss, a fast batch loader and
the lean skorch net that trains them.

This module imports torch at import time, so only the fit/predict code of the net
trainers imports it (lazily); ``import skquant`` never reaches it. The classes live
at module level so that pickled skorch nets can find them again.
"""

from __future__ import annotations

import math

import torch
from skorch import NeuralNet
from skorch.callbacks import Callback
from skorch.dataset import unpack_data
from skorch.utils import TeeGenerator
from torch import nn
from torch.utils.checkpoint import checkpoint

from skquant.models._nets._sequence import Windows


# --------------------------------------------------------------------------- data
class FastLoader:
    """Mini-batches by slicing whole tensors, as a hand-written training loop does.

    skorch's default ``DataLoader`` fetches and collates one row at a time, which
    dominates the cost of small nets. This loader turns the dataset's arrays into
    tensors once and yields slices (a random permutation when ``shuffle``, drawn from
    torch's global generator, which the trainer seeds). ``Windows`` inputs stay rows
    plus window positions; each mini-batch's windows are gathered when it is yielded.
    Rows are gathered with ``index_select``, cheaper than ``X[positions]``.
    """

    def __init__(self, dataset, batch_size=256, shuffle=False, device="cpu"):
        X = dataset.X
        if isinstance(X, Windows):  # window positions; each batch gathers from the rows
            self.X, self.rows = (
                torch.as_tensor(X.index).to(device),
                torch.as_tensor(X.rows).to(device),
            )
        else:
            self.X, self.rows = torch.as_tensor(X).to(device), None
        y = getattr(dataset, "y", None)
        self.y = None if y is None else torch.as_tensor(y).to(device)
        self.device = device
        self.batch_size = int(batch_size)
        self.shuffle = shuffle

    def __len__(self):
        return math.ceil(len(self.X) / self.batch_size)

    def __iter__(self):
        n = len(self.X)
        order = torch.randperm(n).to(self.device) if self.shuffle else None
        for start in range(0, n, self.batch_size):
            if order is None:
                rows = slice(start, start + self.batch_size)
            else:
                rows = order[start : start + self.batch_size]
            Xb = _take(self.X, rows)
            if self.rows is not None:  # the windows of these rows, gathered from the rows
                Xb = torch.index_select(self.rows, 0, Xb.reshape(-1)).reshape(
                    *Xb.shape, self.rows.shape[1]
                )
            yb = (
                _take(self.y, rows)
                if self.y is not None
                else torch.zeros(len(Xb), device=self.device)
            )
            yield Xb, yb


def _take(values, rows):
    """``values[rows]``: a view for a slice; ``index_select`` for positions, the same
    values as advanced indexing at a third of its cost for a batch of windows."""
    return values[rows] if isinstance(rows, slice) else torch.index_select(values, 0, rows)


# --------------------------------------------------------------------------- net
_OWN_INPUTS = (
    "this skorch net is a skquant trainer's fitted model_: it takes the trainer's "
    "standardised float32 inputs (a sequence net's windows of them), not your features, "
    "so its own predict would give other numbers. Predict with the trainer "
    "(trainer.predict(X)) and save the trainer itself: joblib.dump(trainer, path) or "
    "skquant.save_model(trainer, folder)."
)


class LeanNet(NeuralNet):
    """A ``skorch.NeuralNet`` that runs per batch only what a hand-written loop runs.

    The same fit loop, callbacks, history and results as ``NeuralNet``; it skips
    work that changes nothing:

    - switching the modules to train/eval mode when they are already in it (skorch
      walks every submodule at every batch);
    - callback hooks that every callback leaves as ``Callback``'s no-op (skorch's
      default callbacks act per epoch only): when no callback acts per batch, a
      pass records its batches' losses and sizes in the history once, at its end
      (the same records, the losses read in one transfer, not one per batch);
    - the optimizer closure (AdamW calls it once, so calling the step after the
      backward pass is the same computation) and ``get_loss``'s tensor conversion
      (the batch loader already gives tensors on the device).

    The validation pass runs under ``torch.inference_mode``.
    """

    def predict(self, X):
        """Refused: see :meth:`predict_proba`."""
        raise RuntimeError(_OWN_INPUTS)

    def predict_proba(self, X):
        """Refused: this net is a trainer's ``model_`` and takes the trainer's inputs.

        Its inputs are the trainer's standardised float32 rows (a sequence net's
        windows of them), not the features: called on features, skorch's predict gave
        other numbers silently (correlation 0.37 with the trainer's, audit of the
        guide's "save ``trainer.model``" step). The trainer predicts and is saved.
        """
        raise RuntimeError(_OWN_INPUTS)

    def _set_training(self, training=True):
        for name in self._modules + self._criteria:
            module = getattr(self, name + "_")
            if isinstance(module, nn.Module) and module.training != training:
                module.train(training)

    def _acting(self, method_name) -> list:
        """The callbacks whose ``method_name`` hook is not ``Callback``'s no-op."""
        noop = getattr(Callback, method_name, None)
        return [cb for _, cb in self.callbacks_ if getattr(type(cb), method_name, None) is not noop]

    def notify(self, method_name, **cb_kwargs):
        getattr(self, method_name)(self, **cb_kwargs)
        for cb in self._acting(method_name):
            getattr(cb, method_name)(self, **cb_kwargs)

    def run_single_epoch(self, iterator, training, prefix, step_fn, **fit_params):
        if iterator is None:
            return
        self._grad_hooks = self._acting("on_grad_computed")
        if self._acting("on_batch_begin") or self._acting("on_batch_end"):
            super().run_single_epoch(iterator, training, prefix, step_fn, **fit_params)
            return
        losses, sizes = [], []
        for batch in iterator:
            losses.append(step_fn(batch, **fit_params)["loss"].detach())
            sizes.append(len(batch[0]))
        losses = torch.stack(losses).tolist() if losses else []
        # what skorch's on_batch_begin and run_single_epoch record, batch by batch
        self.history[-1]["batches"].extend(
            {f"{prefix}_loss": loss, f"{prefix}_batch_size": size}
            for loss, size in zip(losses, sizes, strict=True)
        )
        self.history.record(prefix + "_batch_count", len(losses))

    def train_step(self, batch, **fit_params):
        self._zero_grad_optimizer()
        self._set_training(True)
        Xi, yi = unpack_data(batch)
        y_pred = self.infer(Xi, **fit_params)
        loss = self.criterion_(y_pred, yi)
        loss.backward()
        hooks = self.__dict__.get("_grad_hooks")  # set per pass by run_single_epoch
        for cb in self._acting("on_grad_computed") if hooks is None else hooks:
            cb.on_grad_computed(
                self,
                named_parameters=TeeGenerator(self.get_all_learnable_params()),
                batch=batch,
                training=True,
            )
        self._step_optimizer(None)
        return {"loss": loss, "y_pred": y_pred}

    def validation_step(self, batch, **fit_params):
        self._set_training(False)
        Xi, yi = unpack_data(batch)
        with torch.inference_mode():
            y_pred = self.infer(Xi, **fit_params)
            loss = self.criterion_(y_pred, yi)
        return {"loss": loss, "y_pred": y_pred}


# --------------------------------------------------------------------------- loss
class PackedLoss(nn.Module):
    """Weighted loss over one or more heads, the targets packed with the row weights.

    ``y`` holds one column per head followed by the row weight. ``heads`` lists
    ``(kind, n_outputs)`` per head, ``kind`` one of ``"mse"``, ``"bce"`` (logit of a
    0/1 target) or ``"ce"`` (class logits, the target a class index). The loss of a
    row is the ``loss_weights``-weighted sum over heads; the batch loss is the mean
    of ``row_weight * row_loss`` (of ``row_loss`` when not ``weighted``: every
    weight is 1).
    """

    # the general path; a loss pickled before the fast path existed reads this default
    _plain_mse = False

    def __init__(self, heads=(("mse", 1),), loss_weights=None, weighted=True):
        super().__init__()
        self.weighted = weighted
        self.heads = [(str(kind), int(n)) for kind, n in heads]
        self.loss_weights = (
            [1.0] * len(self.heads) if loss_weights is None else [float(w) for w in loss_weights]
        )
        # one squared-error head, every row and head weight 1: the mean squared error
        self._plain_mse = not weighted and self.heads == [("mse", 1)] and self.loss_weights == [1.0]

    def per_head(self, y_pred, y):
        """Per-row loss of each head: a list of tensors of shape (n_rows,)."""
        if self.heads == [("mse", 1)]:  # the usual case in the fewest ops, same values
            return [(y_pred.reshape(len(y_pred)) - y[:, 0]) ** 2]
        out, col = [], 0
        y_pred = y_pred.reshape(len(y_pred), -1)
        for i, (kind, n_out) in enumerate(self.heads):
            pred = y_pred[:, col : col + n_out]
            col += n_out
            target = y[:, i]
            if kind == "mse":
                loss = (pred[:, 0] - target) ** 2
            elif kind == "bce":
                loss = nn.functional.binary_cross_entropy_with_logits(
                    pred[:, 0], target, reduction="none"
                )
            else:
                loss = nn.functional.cross_entropy(pred, target.long(), reduction="none")
            out.append(loss)
        return out

    def forward(self, y_pred, y):
        if y.dtype != y_pred.dtype:
            y = y.to(y_pred.dtype)
        if self._plain_mse:  # the usual case in one op, the same value
            return nn.functional.mse_loss(y_pred.reshape(-1), y[:, 0])
        losses = self.per_head(y_pred, y)
        # multiplications by 1 are exact, so skipping them changes no result, only launches
        total = losses[0] if self.loss_weights[0] == 1.0 else losses[0] * self.loss_weights[0]
        for weight, loss in zip(self.loss_weights[1:], losses[1:], strict=True):
            total = total + weight * loss
        return (total * y[:, -1]).mean() if self.weighted else total.mean()


# --------------------------------------------------------------------------- modules
def _mlp_layers(n_in, sizes, dropout):
    layers = []
    for size in sizes:
        layers += [nn.Linear(n_in, int(size)), nn.ReLU(), nn.Dropout(dropout)]
        n_in = int(size)
    return nn.Sequential(*layers), n_in


class MLPModule(nn.Module):
    """Fully connected ReLU layers with dropout and a linear output layer."""

    def __init__(self, n_features=1, hidden_layer_sizes=(64,), dropout=0.0, n_outputs=1):
        super().__init__()
        self.body, n_last = _mlp_layers(n_features, hidden_layer_sizes, dropout)
        self.head = nn.Linear(n_last, n_outputs)

    def forward(self, X):
        return self.head(self.body(X))


class MultiTaskModule(nn.Module):
    """A shared MLP trunk and one small head per target, outputs concatenated."""

    def __init__(
        self, n_features=1, hidden_layer_sizes=(64,), head_size=16, dropout=0.0, n_heads=1
    ):
        super().__init__()
        self.trunk, n_last = _mlp_layers(n_features, hidden_layer_sizes, dropout)
        self.heads = nn.ModuleList(
            nn.Sequential(nn.Linear(n_last, head_size), nn.ReLU(), nn.Linear(head_size, 1))
            if head_size
            else nn.Linear(n_last, 1)
            for _ in range(n_heads)
        )

    def forward(self, X):
        shared = self.trunk(X)
        return torch.cat([head(shared) for head in self.heads], dim=1)


class LSTMModule(nn.Module):
    """An LSTM over the window; the last step's hidden state feeds a linear head."""

    def __init__(
        self,
        n_features=1,
        hidden_size=32,
        num_layers=1,
        dropout=0.0,
        n_outputs=1,
        gradient_checkpointing=False,
    ):
        super().__init__()
        self.lstm = nn.LSTM(
            n_features,
            hidden_size,
            num_layers=num_layers,
            batch_first=True,
            dropout=dropout if num_layers > 1 else 0.0,
        )
        self.drop = nn.Dropout(dropout)
        self.head = nn.Linear(hidden_size, n_outputs)
        self.gradient_checkpointing = gradient_checkpointing

    def _run(self, X):
        self.lstm.flatten_parameters()  # cuDNN wants one weight chunk, e.g. after unpickling
        return self.lstm(X)[0][:, -1]

    def forward(self, X):
        if self.gradient_checkpointing and self.training and torch.is_grad_enabled():
            last = checkpoint(self._run, X, use_reentrant=False)
        else:
            last = self._run(X)
        return self.head(self.drop(last))


class PositionalEncoding(nn.Module):
    """The sinusoidal positional encoding of Vaswani et al. (2017), added to the input."""

    def __init__(self, d_model, max_len=512):
        super().__init__()
        position = torch.arange(max_len).unsqueeze(1)
        div = torch.exp(torch.arange(0, d_model, 2) * (-math.log(10000.0) / d_model))
        pe = torch.zeros(max_len, d_model)
        pe[:, 0::2] = torch.sin(position * div)
        pe[:, 1::2] = torch.cos(position * div)[:, : d_model // 2]
        self.register_buffer("pe", pe, persistent=False)

    def forward(self, X):
        return X + self.pe[: X.shape[1]]


class TransformerModule(nn.Module):
    """A causal Transformer encoder over the window; the last position feeds the head.

    ``max_len`` is the longest window the positional encoding covers (the trainer
    passes its window length; the encoding of a position does not depend on it).
    """

    def __init__(
        self,
        n_features=1,
        d_model=32,
        n_heads=4,
        num_layers=2,
        dim_feedforward=64,
        dropout=0.0,
        n_outputs=1,
        gradient_checkpointing=False,
        max_len=512,
    ):
        super().__init__()
        self.proj = nn.Linear(n_features, d_model)
        self.pos = PositionalEncoding(d_model, max(int(max_len), 1))
        self.layers = nn.ModuleList(
            nn.TransformerEncoderLayer(
                d_model, n_heads, dim_feedforward, dropout, batch_first=True, norm_first=True
            )
            for _ in range(num_layers)
        )
        self.norm = nn.LayerNorm(d_model)
        self.head = nn.Linear(d_model, n_outputs)
        self.gradient_checkpointing = gradient_checkpointing

    def forward(self, X):
        h = self.pos(self.proj(X))
        length = h.shape[1]
        mask = torch.triu(
            torch.full((length, length), float("-inf"), device=h.device, dtype=h.dtype),
            diagonal=1,
        )
        use_ckpt = self.gradient_checkpointing and self.training and torch.is_grad_enabled()
        for layer in self.layers:
            if use_ckpt:
                h = checkpoint(layer, h, mask, None, True, use_reentrant=False)
            else:
                h = layer(h, src_mask=mask, is_causal=True)
        return self.head(self.norm(h[:, -1]))


class CNN1DModule(nn.Module):
    """Causal 1-D convolutions (left padding only) over the window, last step to the head.

    ``body`` holds four modules per convolution layer (pad, conv, ReLU, dropout); with
    ``gradient_checkpointing`` each such block's activations are recomputed in the
    backward pass instead of stored (in training with grad enabled only).
    """

    # a module pickled before the option existed reads this default
    gradient_checkpointing = False

    def __init__(
        self,
        n_features=1,
        channels=(32, 32),
        kernel_size=3,
        dropout=0.0,
        n_outputs=1,
        gradient_checkpointing=False,
    ):
        super().__init__()
        layers, n_in = [], n_features
        for n_out in channels:
            layers += [
                nn.ConstantPad1d((kernel_size - 1, 0), 0.0),
                nn.Conv1d(n_in, int(n_out), kernel_size),
                nn.ReLU(),
                nn.Dropout(dropout),
            ]
            n_in = int(n_out)
        self.body = nn.Sequential(*layers)
        self.head = nn.Linear(n_in, n_outputs)
        self.gradient_checkpointing = gradient_checkpointing

    def forward(self, X):
        h = X.transpose(1, 2)
        if self.gradient_checkpointing and self.training and torch.is_grad_enabled():
            for start in range(0, len(self.body), 4):  # one layer's pad, conv, ReLU, dropout
                h = checkpoint(self.body[start : start + 4], h, use_reentrant=False)
        else:
            h = self.body(h)
        return self.head(h[:, :, -1])


# --------------------------------------------------------------------------- VAE
class VAEModule(nn.Module):
    """MLP encoder to a Gaussian latent (mean, log-variance), MLP decoder back.

    ``forward`` returns ``(reconstruction, mu, logvar)``; in training mode the
    decoder sees a reparameterised sample, in eval mode the mean.
    """

    def __init__(self, n_features=1, hidden_layer_sizes=(64,), latent_dim=8, dropout=0.0):
        super().__init__()
        self.encoder, n_last = _mlp_layers(n_features, hidden_layer_sizes, dropout)
        self.mu = nn.Linear(n_last, latent_dim)
        self.logvar = nn.Linear(n_last, latent_dim)
        body, n_last = _mlp_layers(latent_dim, list(hidden_layer_sizes)[::-1], dropout)
        self.decoder = nn.Sequential(body, nn.Linear(n_last, n_features))

    def encode(self, X):
        h = self.encoder(X)
        return self.mu(h), self.logvar(h).clamp(-10.0, 10.0)

    def decode(self, Z):
        return self.decoder(Z)

    def forward(self, X):
        mu, logvar = self.encode(X)
        if self.training:
            Z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)
        else:
            Z = mu
        return self.decode(Z), mu, logvar


class VAELoss(nn.Module):
    """Negative ELBO per row: squared reconstruction error + ``beta`` * KL(q(z|x) || N(0, I))."""

    def __init__(self, beta=1.0):
        super().__init__()
        self.beta = float(beta)

    @staticmethod
    def reconstruction(recon, X):
        return ((recon - X) ** 2).sum(dim=1)

    def forward(self, y_pred, X):
        recon, mu, logvar = y_pred
        kl = -0.5 * (1.0 + logvar - mu**2 - logvar.exp()).sum(dim=1)
        return (self.reconstruction(recon, X.to(recon.dtype)) + self.beta * kl).mean()
