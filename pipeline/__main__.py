"""``python -m pipeline``: the command line (see :mod:`pipeline.cli`)."""

import sys

from pipeline.cli.main import main

if __name__ == "__main__":
    sys.exit(main())
