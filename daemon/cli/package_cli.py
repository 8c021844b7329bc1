"""``exoactor-edge package ...``: import GENMO output into a motion package, inspect a package.

``package from-genmo INPUT [-o OUT] [--package-id ID] [--smooth] ...`` reads GENMO's result
(``.pt``, ``.npz`` or ``.npy``, never executing anything in it), checks it and what the robot
would do with it, and writes the v1 wire message (``daemon.cli.genmo_cli``). ``package inspect FILE
[--at SECONDS] [--json]`` prints metadata, validation, the upload checks, or the command at a
track time (``daemon.cli.inspect_cli``). Exit codes: 0 valid, 1 rejected, 2 unreadable input.
``package keygen`` and ``package sign`` live in ``daemon.cli.package_sign_cli``.
"""

from __future__ import annotations

import argparse

from daemon.cli.genmo_cli import (
    EXIT_IO,
    EXIT_OK,
    EXIT_REJECTED,
    add_from_genmo_arguments,
    run_from_genmo,
)
from daemon.cli.inspect_cli import add_inspect_arguments, run_inspect
from daemon.cli.package_sign_cli import add_signing_commands

__all__ = ["EXIT_IO", "EXIT_OK", "EXIT_REJECTED", "add_package_commands"]


def add_package_commands(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Register ``package from-genmo|inspect|keygen|sign`` (each sets ``func`` -> exit code)."""
    package = subparsers.add_parser(
        "package", help="motion packages: import, inspect, keygen, sign"
    )
    sub = package.add_subparsers(dest="package_command", required=True)

    gen = sub.add_parser("from-genmo", help="GENMO output (.pt, .npz or .npy) -> motion package")
    add_from_genmo_arguments(gen)
    gen.set_defaults(func=run_from_genmo)

    ins = sub.add_parser(
        "inspect", help="a package's metadata, validation and checks, or its command at a time"
    )
    add_inspect_arguments(ins)
    ins.set_defaults(func=run_inspect)
    add_signing_commands(sub)
