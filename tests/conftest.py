"""Shared test set-up.

Tests run under pytest-xdist with one worker per core, so each worker keeps its
numeric libraries to one thread: OpenMP busy-waiting in LightGBM and XGBoost under
oversubscription makes tiny fits a hundred times slower.
"""

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")
