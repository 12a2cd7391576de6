#!/usr/bin/env bash
# The README's two commands on the device machine's CPU (issue 10: a second CPU type).
# That machine reaches no package index, so the README's install becomes: the device's
# own Python 3.12 and packages (PyTorch is its CUDA build), plus the wheels that
# .ci/device_wheels.sh put in .whl/ here, plus skquant from this tree. Then the README's
# main job and its test command, run with the device's python3 (and without pytest's
# cache). The exit status is 1 when either fails.
#
#   run(command="bash .ci/device_readme.sh", carry=[".whl"], timeout_s=540)
set -uo pipefail
cd "$(dirname "$0")/.."
OUT="${OUT:-/tmp/out}"; mkdir -p "$OUT"
export MPLBACKEND=Agg PYTHONUNBUFFERED=1
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
    --target /tmp/site .whl/*.whl || exit 1
export PYTHONPATH=/tmp/site PATH="/tmp/site/bin:$PATH"
{
    echo "== CPU"; grep -m1 'model name' /proc/cpuinfo; nproc
    grep -m1 -o -w -E 'avx512f|avx2' /proc/cpuinfo | sort -u | tr '\n' ' '; echo
    python3 -c 'import sys, numpy, pandas, scipy, sklearn, torch; print(sys.version.split()[0], "numpy", numpy.__version__, "pandas", pandas.__version__, "scipy", scipy.__version__, "scikit-learn", sklearn.__version__, "torch", torch.__version__, torch.backends.cpu.get_cpu_capability())'
} 2>&1 | tee "$OUT/cpu.txt"
python3 -m pip install -q --no-index --no-deps --no-build-isolation -e . || exit 1
echo "== the README's main job"
skquant() { python3 -c 'import sys; from skquant.cli import main; sys.exit(main())' "$@"; }
skquant walkforward --output-dir runs/demo 2>&1 | tee "$OUT/walkforward.txt" | tail -n 25
main_job=${PIPESTATUS[0]}
echo "== the README's test command"
python3 -m pytest -n auto -p no:cacheprovider 2>&1 | tee "$OUT/pytest.txt" | tail -n 40
tests=${PIPESTATUS[0]}
echo "main job exit $main_job, tests exit $tests"
[[ $main_job == 0 && $tests == 0 ]]
