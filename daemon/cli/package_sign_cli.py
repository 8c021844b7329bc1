"""``exoactor-edge package keygen`` and ``package sign``: provision a signing key, sign a package.

``package keygen PREFIX`` writes ``PREFIX.key`` (Ed25519 private key, PKCS#8 PEM, mode 0600) and
``PREFIX.pub`` (public key, PEM) and prints the key id the robot will know it by. It never
overwrites a file and never prints the private key. The public file goes into the robot's
``[package] trusted_keys`` (a file or a directory of ``*.pub``); the private one stays with
whoever produces packages (the cloud, a workstation), never on the robot.

``package sign FILE --key PREFIX.key [-o OUT]`` signs an existing package without touching its
body (the digest stays the producer's), checks that the result validates and verifies, and
writes it atomically to ``OUT`` (default ``<stem>.signed<suffix>`` beside ``FILE``). Exit codes:
0 written, 1 the package is rejected (nothing written), 2 a file cannot be read or written.
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
from pathlib import Path

from estimators.errors import PackageRejectedError, SigningKeyError
from estimators.package import (
    PackageConfig,
    decode_package,
    generate_signing_key,
    key_id_of,
    public_key_bytes,
    resign_package,
)
from estimators.package.signing import parse_private_key, private_key_pem, public_key_pem

EXIT_OK = 0
EXIT_REJECTED = 1
EXIT_IO = 2
PRIVATE_SUFFIX = ".key"
PUBLIC_SUFFIX = ".pub"


def _out(text: str) -> None:
    sys.stdout.write(text + "\n")


def _err(text: str) -> None:
    sys.stderr.write(text + "\n")


def _write_new(path: Path, data: bytes, mode: int) -> None:
    """Create ``path`` with ``mode`` from the start (no window with wider permissions)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        os.fchmod(fd, mode)  # the umask may have narrowed it; never widened
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_atomic(path: Path, data: bytes) -> None:
    temp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    try:
        _write_new(temp, data, 0o644)
        os.replace(temp, path)
    finally:
        temp.unlink(missing_ok=True)


def _keygen(args: argparse.Namespace) -> int:
    prefix: Path = args.prefix
    private = prefix.with_name(prefix.name + PRIVATE_SUFFIX)
    public = prefix.with_name(prefix.name + PUBLIC_SUFFIX)
    for path in (private, public):
        if path.exists():
            _err(f"error: {path} exists; refusing to overwrite a key")
            return EXIT_IO
    key = generate_signing_key()
    try:
        _write_new(private, private_key_pem(key), 0o600)
        try:
            _write_new(public, public_key_pem(key), 0o644)
        except OSError:
            private.unlink(missing_ok=True)
            raise
    except OSError as exc:
        _err(f"error: cannot write {exc.filename or prefix}: {exc.strerror}")
        return EXIT_IO
    _out(f"key id: {key_id_of(key)}")
    _out(f"private key: {private} (mode 0600: keep it with the producer, never on the robot)")
    _out(f"public key: {public} (add it to the robot's [package] trusted_keys)")
    return EXIT_OK


def _default_out(path: Path) -> Path:
    return path.with_name(f"{path.stem}.signed{path.suffix}")


def _sign(args: argparse.Namespace) -> int:
    out: Path = args.out or _default_out(args.file)
    try:
        data = args.file.read_bytes()
        key = parse_private_key(args.key.read_bytes())
    except OSError as exc:
        _err(f"error: cannot read {exc.filename}: {exc.strerror}")
        return EXIT_IO
    except SigningKeyError as exc:
        _err(f"error: {args.key}: {exc.detail}")
        return EXIT_IO
    key_id = key_id_of(key)
    try:
        signed = resign_package(data, key)
        # The robot's own checks, with only this key trusted: what is written will verify.
        config = PackageConfig(
            max_bytes=max(args.max_bytes, 64),
            require_signature=True,
            trusted_keys={key_id: public_key_bytes(key)},
        )
        decoded = decode_package(signed, config)
    except PackageRejectedError as exc:
        _err(f"rejected [{exc.code.value}] {exc.field}: {exc.detail} (nothing written)")
        return EXIT_REJECTED
    try:
        _write_atomic(out, signed)
    except OSError as exc:
        _err(f"error: cannot write {out}: {exc.strerror}")
        return EXIT_IO
    _out(f"signed {args.file} -> {out}")
    _out(f"package: {decoded.package.meta.package_id} sha256 {decoded.sha256_hex}")
    _out(f"key id: {key_id}")
    return EXIT_OK


def add_signing_commands(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Register ``keygen`` and ``sign`` under ``package`` (each sets ``func`` -> exit code)."""
    gen = sub.add_parser("keygen", help="new Ed25519 signing key: PREFIX.key (0600), PREFIX.pub")
    gen.add_argument("prefix", type=Path, help="path prefix of the two key files")
    gen.set_defaults(func=_keygen)

    sign = sub.add_parser("sign", help="sign a motion package with a private key")
    sign.add_argument("file", type=Path, help="the package to sign")
    sign.add_argument("--key", type=Path, required=True, help="private key (PEM or hex seed)")
    sign.add_argument("-o", "--out", type=Path, help="output (default: <stem>.signed<suffix>)")
    sign.add_argument("--max-bytes", type=int, default=PackageConfig().max_bytes)
    sign.set_defaults(func=_sign)
