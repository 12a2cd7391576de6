#!/usr/bin/env bash
# Wheels for the README's test command on the device machine (issue 10: the README's
# two commands on a second CPU type). That machine reaches no package index; its
# Python 3.12 already holds PyTorch, numpy, pandas, scikit-learn, scipy, numba, pytest
# and more (the device library's KINDS.md). Everything else skquant's `[all]` install
# needs travels as wheels in .whl/, at the versions the README's install resolved here
# (.venv, leg 1 of .ci/run), built for Python 3.12. Then, on the device:
#   bash .ci/device_readme.sh     (carry .whl)
#
#   bash .ci/device_wheels.sh     # here, after the README's set-up command
set -euo pipefail
cd "$(dirname "$0")/.."
PY312="${PY312:-$(ls /root/.pyenv/versions/3.12.*/bin/python3.12 2>/dev/null | sort -V | tail -n 1 || true)}"
PY312="${PY312:-python3.12}"
"$PY312" -c 'import sys; assert sys.version_info[:2] == (3, 12), sys.version' || {
    echo "PY312=$PY312 is not a Python 3.12 (the device's): set PY312"; exit 1; }
rm -rf .whl && mkdir .whl

# In the device image (KINDS.md, read 2026-11-17); torch is the device's CUDA build and
# ruff only lints. Everything else in .venv travels.
on_device="absl-py accelerate aiofiles aiohappyeyeballs aiohttp aiosignal annotated-doc anyio
attrs build certifi charset-normalizer click cloudpickle colorama contourpy coverage cycler
cython execnet filelock flatbuffers fonttools formulaic frozenlist fsspec grpcio h11 h5py
httpcore httpx humanize hypothesis idna imageio iniconfig interface-meta jinja2 joblib
kiwisolver lazy-loader llvmlite lxml markdown markdown-it-py markupsafe matplotlib mdurl
ml-dtypes mpmath msgpack multidict mypy-extensions narwhals networkx numba numpy packaging
pandas pathspec patsy pillow pip pluggy portalocker prometheus-client propcache protobuf psutil
pyarrow py-cpuinfo pygments pyparsing pyproject-hooks pytest pytest-xdist python-dateutil
pyyaml regex requests rich scikit-learn scipy setuptools shellingham simplejson six
sortedcontainers statsmodels sympy tabulate threadpoolctl toolz torch tqdm typer
typing-extensions typing-inspect urllib3 werkzeug wheel wrapt xxhash yarl zipp ruff"
normalize() { tr 'A-Z_.' 'a-z--' <<<"$1"; }
skip=" $(for n in $on_device; do normalize "$n"; done | tr '\n' ' ') "

direct=$(.venv/bin/pip freeze --exclude-editable | grep ' @ ' || true)
[[ -z "$direct" ]] || { echo "installed from a URL, not carried: $direct"; exit 1; }
.venv/bin/pip freeze --exclude-editable | while IFS= read -r req; do
    name=$(normalize "${req%%==*}")
    [[ "$skip" == *" $name "* ]] && continue
    # a binary wheel for 3.12 where one exists, else built from the sdist with 3.12
    "$PY312" -m pip wheel -q --no-deps --prefer-binary -w .whl "$req" </dev/null >/dev/null \
        2>.whl.err || { grep -v 'is ignored' .whl.err || true; echo "no wheel for $req"; exit 1; }
done
rm -f .whl.err
count=$(ls .whl | wc -l)
echo "$count wheels, $(du -sm .whl | cut -f1) MiB in .whl (a device call carries 64 MiB in all)"
ls .whl | grep -v -E 'none-any|cp312|abi3|py3-none-manylinux' && { echo "a wheel above is not for CPython 3.12"; exit 1; } || true
