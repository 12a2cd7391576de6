"""Neural-net trainers on skorch and PyTorch.

Importing this package imports neither torch nor skorch: the trainers import them
inside ``fit`` (``_modules`` holds the PyTorch classes and is only imported there).
"""

from skquant.models._nets._mlp import MLPTrainer
from skquant.models._nets._multitask import MultiTaskTrainer
from skquant.models._nets._sequence import CNN1DTrainer, LSTMTrainer, TransformerTrainer
from skquant.models._nets._vae import VAETrainer

__all__ = [
    "CNN1DTrainer",
    "LSTMTrainer",
    "MLPTrainer",
    "MultiTaskTrainer",
    "TransformerTrainer",
    "VAETrainer",
]
