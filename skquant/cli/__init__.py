"""The ``skquant`` command line (also ``python -m skquant``).

Commands: ``configs list|show``, ``train-all``, ``walkforward``, ``tune``,
``benchmark``. Run ``skquant COMMAND --help`` for each one's options. Exit codes: 0 when everything
finished, 1 when some symbols failed (the others still finish), 2 for bad usage or
bad input (a one-line message, no traceback), 3 for an unexpected error (a
one-line message; ``-v`` prints the traceback).
"""

from skquant.cli._main import main

__all__ = ["main"]
