"""The command line, ``python -m pipeline COMMAND``: the parser and one module per command."""
