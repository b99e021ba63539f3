"""Build the API reference of ``pipeline`` from its docstrings with pdoc (``make docs``).

Every module gets a page, also those a package leaves out of its ``__all__`` (pdoc alone
would skip them). Usage: ``python scripts/build_api_docs.py [--output docs/api]``; then
open ``docs/api/index.html``.
"""

from __future__ import annotations

import argparse
import os
import pkgutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def pipeline_modules() -> list[str]:
    """``pipeline`` and every module under it, except the ``python -m`` entry point."""
    sys.path.insert(0, str(ROOT))
    import pipeline

    found = pkgutil.walk_packages(pipeline.__path__, "pipeline.")
    return ["pipeline", *sorted(m.name for m in found if not m.name.endswith("__main__"))]


def pdoc_specs(modules: list[str]) -> list[str]:
    """The fewest of ``modules`` (sorted, a package before its modules) whose pdoc walks
    together cover them all, none twice: pdoc walks a package's modules itself, but only
    those its ``__all__`` names, and warns about every module it is given twice."""
    from pdoc.extract import walk_specs

    specs: list[str] = []
    covered: set[str] = set()
    for name in modules:
        if name not in covered:
            specs.append(name)
            covered.update(walk_specs([name]))
    return specs


def main(argv: list[str] | None = None) -> int:
    """Write the reference into ``--output``; returns the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=ROOT / "docs" / "api")
    args = parser.parse_args(argv)
    try:  # before the build, which takes seconds and would end in a traceback
        args.output.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        print(
            f"Cannot write the API reference to {args.output} ({exc.strerror or exc}); "
            "pass --output a folder you can write to.",
            file=sys.stderr,
        )
        return 2
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import pdoc

    pdoc.render.configure(docformat="restructuredtext")
    pdoc.pdoc(*pdoc_specs(pipeline_modules()), output_directory=args.output)
    print(f"API reference written to {args.output / 'index.html'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
