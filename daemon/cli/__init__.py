"""The command line: ``exoactor-edge`` (``daemon.cli.edge_cli``) and its sub-command modules.

``daemon.cli.main`` is kept, lazily, for console scripts installed before the entry point moved
to ``daemon.cli.edge_cli:main`` (their wrapper runs ``from daemon.cli import main``); lazily so
that importing one sub-command module does not import the whole command line.
"""

from __future__ import annotations

from collections.abc import Callable


def __getattr__(name: str) -> Callable[..., int]:
    if name == "main":
        from daemon.cli.edge_cli import main

        return main
    raise AttributeError(f"module 'daemon.cli' has no attribute {name!r}")
