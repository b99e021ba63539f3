"""``python -m pipeline ...`` run inside the test process, as the tests' default.

A subprocess per command costs a Python start and a TensorFlow import (about 5 s of CPU
on 2 cores) and proves nothing more than a call of :func:`pipeline.cli.main.main`, the
function ``python -m pipeline`` runs, with the same arguments. So tests call the CLI
through :func:`run_cli`, which captures what it prints and its exit status exactly as a
subprocess would report them. Tests where the process itself is the point (a SIGKILL, a
file-size limit, Ctrl-C, a fresh interpreter's imports, the ``python -m`` entry point)
keep a real subprocess. :func:`load_script` does the same for the scripts of ``scripts/``
and ``benchmarks/``: their ``main()`` runs here.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType


@dataclass(frozen=True)
class CliResult:
    """What a command printed and returned, named as ``subprocess.CompletedProcess``."""

    returncode: int
    stdout: str
    stderr: str


def run_cli(*args: str, runs_dir: Path | None = None) -> CliResult:
    """Run ``python -m pipeline *args [--runs-dir runs_dir]`` in this process.

    Returns its exit status and its standard output and error as text. ``argparse``'s
    own exits (``--help``, a bad flag) come back as their status, not as ``SystemExit``.
    """
    from pipeline.cli.main import main

    argv = [*args, *(["--runs-dir", str(runs_dir)] if runs_dir is not None else [])]
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(argv)
        except SystemExit as exit_:
            code = exit_.code if isinstance(exit_.code, int) else (0 if exit_.code is None else 2)
            if isinstance(exit_.code, str):
                print(exit_.code, file=err)
    return CliResult(code, out.getvalue(), err.getvalue())


def load_script(path: Path) -> ModuleType:
    """The script at ``path`` (``scripts/``, ``benchmarks/``) imported as a module named
    after its file, so a test can call its ``main()`` in this process."""
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec is not None and spec.loader is not None, path
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
