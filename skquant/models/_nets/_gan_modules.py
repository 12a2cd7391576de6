"""PyTorch modules of the tabular GAN (generator, critic) and its WGAN-GP training loop.

This module imports torch at import time, so only ``GANTrainer.fit``/``transform``/
``sample`` import it (lazily); ``import skquant`` never reaches it. The classes live at
module level so that pickled trainers can find them again.
"""

from __future__ import annotations

import copy
import math

import torch
from torch import nn


def _layers(n_in: int, sizes, activation) -> tuple[nn.Sequential, int]:
    layers: list[nn.Module] = []
    for size in sizes:
        layers += [nn.Linear(n_in, int(size)), activation()]
        n_in = int(size)
    return nn.Sequential(*layers), n_in


class _LeakyReLU(nn.LeakyReLU):
    def __init__(self):
        super().__init__(0.2)


class GANGenerator(nn.Module):
    """Noise (and a one-hot class, when conditional) to a standardised row.

    ReLU hidden layers and a linear output layer, so the rows are unbounded (fat
    tails stay possible).
    """

    def __init__(self, latent_dim=8, sizes=(64, 64), n_features=1, n_classes=0):
        super().__init__()
        self.latent_dim = int(latent_dim)
        self.n_classes = int(n_classes)
        self.body, n_last = _layers(self.latent_dim + self.n_classes, sizes, nn.ReLU)
        self.head = nn.Linear(n_last, int(n_features))

    def forward(self, z, labels=None):
        if self.n_classes:
            z = torch.cat([z, nn.functional.one_hot(labels, self.n_classes).to(z.dtype)], dim=1)
        return self.head(self.body(z))


class GANCritic(nn.Module):
    """The discriminator (a Wasserstein critic): LeakyReLU layers and a linear score.

    ``features(x)`` is the last hidden layer, which depends on the row alone. When
    conditional, the class enters through a projection (Miyato & Koyama, 2018):
    ``score(x, y) = w . h(x) + embed(y) . h(x)``, so the features need no label.
    No batch or layer normalisation: the gradient penalty is per row.
    """

    def __init__(self, n_features=1, sizes=(64, 64), n_classes=0):
        super().__init__()
        self.n_classes = int(n_classes)
        self.body, n_last = _layers(int(n_features), sizes, _LeakyReLU)
        self.head = nn.Linear(n_last, 1)
        self.embed = nn.Embedding(self.n_classes, n_last) if self.n_classes else None
        if self.embed is not None:
            nn.init.zeros_(self.embed.weight)

    def features(self, x):
        return self.body(x)

    def forward(self, x, labels=None):
        h = self.body(x)
        score = self.head(h)[:, 0]
        if self.embed is not None:
            score = score + (self.embed(labels) * h).sum(dim=1)
        return score


class GANModule(nn.Module):
    """The fitted pair: the (weight-averaged) generator that samples and the critic."""

    def __init__(self, generator: GANGenerator, critic: GANCritic):
        super().__init__()
        self.generator = generator
        self.discriminator = critic


def _gradient_penalty(critic, real, fake, labels):
    """``E[(||grad_x critic(x_hat)||_2 - 1)^2]`` on random interpolates (Gulrajani et al.)."""
    alpha = torch.rand(len(real), 1, device=real.device, dtype=real.dtype)
    mixed = (alpha * real + (1 - alpha) * fake).requires_grad_(True)
    score = critic(mixed, labels)
    (grad,) = torch.autograd.grad(score.sum(), mixed, create_graph=True)
    return ((grad.norm(2, dim=1) - 1) ** 2).mean()


def train_wgan_gp(
    X,
    labels,
    *,
    n_classes: int,
    latent_dim: int,
    generator_sizes,
    discriminator_sizes,
    epochs: int,
    batch_size: int,
    lr: float,
    n_critic: int,
    gp_weight: float,
    ema_decay: float,
    device: str,
    log=None,
):
    """Train a WGAN-GP on the rows of ``X`` (float32 array, already standardised).

    Each epoch the critic takes one step per shuffled mini-batch; the generator
    takes one step after every ``n_critic`` critic steps (the counter runs across
    epochs). The returned generator is an exponential moving average of the
    generator's weights (``ema_decay``, with TensorFlow's warm-up
    ``min(ema_decay, (1 + k) / (10 + k))`` at generator step ``k``; 0 keeps the last
    weights), which damps the
    oscillation of adversarial training. Adam with ``betas=(0.5, 0.9)`` as in
    Gulrajani et al. (2017). Torch's global generator must be seeded by the caller.

    Returns
    -------
    module : GANModule
    history : dict of list of float
        Per epoch: ``discriminator_loss`` (critic loss with the penalty),
        ``generator_loss`` (``-critic(fake)`` on the epoch's batches) and
        ``wasserstein_distance`` (``critic(real) - critic(fake)``).
    """
    Xt = torch.as_tensor(X, dtype=torch.float32, device=device)
    yt = None if labels is None else torch.as_tensor(labels, dtype=torch.long, device=device)
    n, n_features = Xt.shape
    generator = GANGenerator(latent_dim, generator_sizes, n_features, n_classes).to(device)
    critic = GANCritic(n_features, discriminator_sizes, n_classes).to(device)
    averaged = copy.deepcopy(generator).requires_grad_(False)
    opt_g = torch.optim.Adam(generator.parameters(), lr=lr, betas=(0.5, 0.9))
    opt_d = torch.optim.Adam(critic.parameters(), lr=lr, betas=(0.5, 0.9))
    batch_size = min(int(batch_size), n)
    history: dict[str, list[float]] = {
        "discriminator_loss": [],
        "generator_loss": [],
        "wasserstein_distance": [],
    }
    step = g_steps = 0
    n_batches = math.ceil(n / batch_size)
    for epoch in range(int(epochs)):
        order = torch.randperm(n, device=device)
        sums = torch.zeros(3, device=device)
        for start in range(0, n, batch_size):
            rows = order[start : start + batch_size]
            real = Xt[rows]
            lab = None if yt is None else yt[rows]
            z = torch.randn(len(real), latent_dim, device=device)
            with torch.no_grad():
                fake = generator(z, lab)
            real_score = critic(real, lab).mean()
            fake_score = critic(fake, lab).mean()
            loss_d = fake_score - real_score
            if gp_weight:
                loss_d = loss_d + gp_weight * _gradient_penalty(critic, real, fake, lab)
            opt_d.zero_grad(set_to_none=True)
            loss_d.backward()
            opt_d.step()
            with torch.no_grad():
                sums += torch.stack([loss_d, -fake_score, real_score - fake_score])
            step += 1
            if step % n_critic == 0:
                z = torch.randn(len(real), latent_dim, device=device)
                loss_g = -critic(generator(z, lab), lab).mean()
                opt_g.zero_grad(set_to_none=True)
                loss_g.backward()
                opt_g.step()
                # TensorFlow's warm-up: early steps are not averaged with the initial weights
                decay = min(ema_decay, (1 + g_steps) / (10 + g_steps))
                g_steps += 1
                with torch.no_grad():
                    pairs = zip(averaged.parameters(), generator.parameters(), strict=True)
                    for avg, param in pairs:
                        avg.lerp_(param, 1.0 - decay)
        means = (sums / n_batches).tolist()
        for key, value in zip(history, means, strict=True):
            history[key].append(float(value))
        if log is not None:
            log(
                f"epoch {epoch + 1}: discriminator_loss={means[0]:.4f} "
                f"generator_loss={means[1]:.4f} wasserstein_distance={means[2]:.4f}"
            )
    module = GANModule(averaged, critic).eval()
    return module, history
