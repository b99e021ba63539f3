"""Command line: ``python -m pipeline inspect|train|evaluate|predict|review|runs|sweep``.

Every command reads the bundled UCI data unless ``--data`` names another file,
prints a readable report (or JSON with ``--json``), and on bad input prints one
line ``error: ...`` to stderr and exits with status 2.

This module is the entry point, :func:`main`; :mod:`pipeline.cli.parser` builds the
parser and each command runs in a module of its own (:mod:`pipeline.cli.train`, ...).
"""

from __future__ import annotations

import os
import sys
import traceback

from pipeline.cli.output import describe_os_error
from pipeline.cli.parser import build_parser
from pipeline.core.errors import HeadlineLabError
from pipeline.core.memory import limit_malloc_arenas

EXIT_BAD_INPUT = 2
EXIT_UNEXPECTED = 1
EXIT_INTERRUPTED = 130
#: Set to print the traceback of an unexpected error (for a bug report).
DEBUG_ENV = "HEADLINE_LAB_DEBUG"
# TensorFlow's C++ start-up chatter (CPU features, no CUDA driver) is noise on a CLI.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def main(argv: list[str] | None = None) -> int:
    """Parse ``argv`` and run the command; returns the process exit status."""
    limit_malloc_arenas()  # before TensorFlow's threads allocate (pipeline.core.memory)
    args = build_parser().parse_args(argv)
    try:
        return args.handler(args)
    except HeadlineLabError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except OSError as exc:  # a folder not writable, a disk full, a file gone
        print(f"error: {describe_os_error(exc)}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as exc:  # the promise: one line, never a traceback
        if os.environ.get(DEBUG_ENV):
            traceback.print_exc()
        print(
            f"error: '{args.command}' failed unexpectedly ({type(exc).__name__}: "
            f"{str(exc)[:200]}). This is a bug in Headline Lab: run it again with "
            f"{DEBUG_ENV}=1 for the traceback and report it.",
            file=sys.stderr,
        )
        return EXIT_UNEXPECTED


if __name__ == "__main__":
    sys.exit(main())
