"""Training strategies: how models are laid over one or several targets.

- :class:`SingleTaskStrategy`: one model per target, classification for a binary
  target and regression otherwise.
- :class:`MultiTaskStrategy`: one multi-output model over correlated targets.
- :class:`CascadeStrategy`: a chain of models, each fed the out-of-fold,
  chronological predictions of the stages before it.
- :func:`choose_task`: the task rule the strategies apply to one target.
"""

from skquant.strategies._cascade import CascadeStrategy
from skquant.strategies._multi import MultiTaskStrategy
from skquant.strategies._single import SingleTaskStrategy
from skquant.utils._target import choose_task

__all__ = ["CascadeStrategy", "MultiTaskStrategy", "SingleTaskStrategy", "choose_task"]
