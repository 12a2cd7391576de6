"""``python -m skquant``: the same as the ``skquant`` command."""

import sys

from skquant.cli import main

if __name__ == "__main__":
    sys.exit(main())
