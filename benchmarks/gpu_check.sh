#!/usr/bin/env bash
# Run the neural-net tests on a CUDA GPU (CI stays CPU-only).
#
#   bash benchmarks/gpu_check.sh            # every fit of the net tests on device="cuda"
#   bash benchmarks/gpu_check.sh -k causal  # extra pytest arguments pass through
#
# Needs a CUDA build of torch plus skorch and scikit-learn >= 1.6 on the Python it runs
# (PYTHON=... to choose one). SKQUANT_TEST_DEVICE=cuda makes tests/test_nets.py train
# every net (and tests/test_vae.py the VAE) on the GPU; the script fails at once when torch sees no GPU.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
# skquant.configs maps to configs/ only through an install: make an editable one if needed
if ! "$PYTHON" -c "import skquant.configs" 2>/dev/null; then
    "$PYTHON" -m pip install -q --no-deps --no-build-isolation -e .
fi
"$PYTHON" - <<'PY'
import sklearn, skorch, torch
assert torch.cuda.is_available(), "torch sees no CUDA GPU"
print(f"torch {torch.__version__} on {torch.cuda.get_device_name(0)}; "
      f"skorch {skorch.__version__}; scikit-learn {sklearn.__version__}")
PY
SKQUANT_TEST_DEVICE=cuda "$PYTHON" -m pytest tests/test_nets.py tests/test_vae.py -q -p no:cacheprovider -p no:xdist "$@"
