"""Demo data: real index prices from the ``arch`` package and a synthetic panel."""

from skquant.datasets._demo import load_demo
from skquant.datasets._synthetic import make_synthetic_panel

__all__ = ["load_demo", "make_synthetic_panel"]
