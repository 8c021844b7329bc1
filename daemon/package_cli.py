"""``exoactor-edge package ...``: import GENMO output into a motion package, inspect a package.

``package from-genmo INPUT -o OUT --package-id ID --instruction TEXT`` reads GENMO's
``smpl_params.pt`` (needs torch) or an ``.npz`` with the same arrays, optionally with WiLoR hands
from an ``.npz`` (``hand_pose``, ``hand_keypoints``, ``hand_confidence``, ``hand_valid``, rows
left/right) and an Ed25519 key (hex seed file), and writes the v1 wire message.
``package inspect FILE`` prints metadata, duration, arrays and the validation result; the exit
code is 0 for a valid package, 1 for a rejected one, 2 when the file cannot be read.
``package keygen`` and ``package sign`` live in ``daemon.package_sign_cli``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import msgpack
import numpy as np

from daemon.package_sign_cli import add_signing_commands
from estimators.errors import (
    GenmoImportError,
    OptionalDependencyError,
    PackageRejectedError,
    SigningKeyError,
)
from estimators.genmo import genmo_to_package, load_genmo_file
from estimators.package import (
    CameraView,
    PackageConfig,
    WilorHands,
    decode_package,
    encode_package,
    key_id_of,
)
from estimators.package.signing import parse_private_key, parse_public_key

EXIT_OK = 0
EXIT_REJECTED = 1
EXIT_IO = 2


def _out(text: str) -> None:
    sys.stdout.write(text + "\n")


def _err(text: str) -> None:
    sys.stderr.write(text + "\n")


def _load_wilor(path: Path) -> WilorHands:
    with np.load(path, allow_pickle=False) as data:
        return WilorHands(
            hand_pose=np.asarray(data["hand_pose"], dtype=np.float32),
            keypoints=np.asarray(data["hand_keypoints"], dtype=np.float32),
            confidence=np.asarray(data["hand_confidence"], dtype=np.float32),
            valid=np.asarray(data["hand_valid"], dtype=np.uint8),
        )


def _from_genmo(args: argparse.Namespace) -> int:
    try:
        params = load_genmo_file(args.input)
        hands = _load_wilor(args.wilor) if args.wilor else None
        package = genmo_to_package(
            params,
            package_id=args.package_id,
            task_instruction=args.instruction,
            camera_view=CameraView(args.camera_view),
            fps=args.fps,
            hands=hands,
            source=str(args.input),
        )
        key = parse_private_key(args.sign_key.read_bytes()) if args.sign_key else None
        key_id = (args.key_id or key_id_of(key)) if key is not None else None
        data = encode_package(package, signing_key=key, key_id=key_id)
        args.out.write_bytes(data)
    except (GenmoImportError, OptionalDependencyError, OSError, KeyError, ValueError) as exc:
        # SigningKeyError and PackageRejectedError are ValueErrors too.
        if isinstance(exc, PackageRejectedError):
            _err(f"rejected [{exc.code.value}] {exc.field}: {exc.detail}")
            return EXIT_REJECTED
        _err(f"error: {exc}")
        return EXIT_IO
    _out(f"wrote {args.out} ({len(data)} bytes, {package.meta.n_frames} frames)")
    return EXIT_OK


def _peek_meta(data: bytes) -> dict[str, object] | None:
    """Best-effort metadata of a package that failed validation (for the report only)."""
    try:
        outer = msgpack.unpackb(data, raw=False)
        inner = msgpack.unpackb(outer["body"], raw=False)
        meta = inner["meta"]
    except (ValueError, TypeError, KeyError, msgpack.UnpackException):
        return None
    return meta if isinstance(meta, dict) else None


def _inspect(args: argparse.Namespace) -> int:
    try:
        data = args.file.read_bytes()
        trusted = {}
        for item in args.trusted_key:
            key_id, _, path = item.rpartition("=")
            raw = parse_public_key(Path(path).read_bytes())
            trusted[key_id or key_id_of(raw)] = raw
        config = PackageConfig(
            max_bytes=args.max_bytes,
            max_frames=args.max_frames,
            require_signature=args.require_signature,
            trusted_keys=trusted,
        )
    except (OSError, SigningKeyError, ValueError) as exc:
        _err(f"error: {exc}")
        return EXIT_IO
    _out(f"file: {args.file} ({len(data)} bytes)")
    try:
        decoded = decode_package(data, config)
    except PackageRejectedError as exc:
        meta = _peek_meta(data)
        if meta is not None:
            for key, value in meta.items():
                _out(f"meta.{key}: {value}")
        _out(f"validation: REJECTED [{exc.code.value}] {exc.field}: {exc.detail}")
        return EXIT_REJECTED
    pkg = decoded.package
    for key, value in pkg.meta.model_dump(mode="json").items():
        _out(f"meta.{key}: {value}")
    _out(f"duration_s: {pkg.meta.duration_s:.3f}")
    _out(f"sha256: {decoded.sha256_hex}")
    _out(f"signed_by: {decoded.signed_by or '-'}")
    arrays = {
        "global_orient": pkg.body.global_orient,
        "body_pose": pkg.body.body_pose,
        "transl": pkg.body.transl,
        "betas": pkg.body.betas,
        "g1_q_ref": pkg.g1_q_ref,
    }
    for name, values in arrays.items():
        if values is not None:
            _out(f"array.{name}: {values.dtype.str} {tuple(values.shape)}")
    if pkg.hands is not None:
        _out(f"hands: {type(pkg.hands).__name__}")
    _out("validation: OK")
    return EXIT_OK


def add_package_commands(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Register ``package from-genmo|inspect|keygen|sign`` (each sets ``func`` -> exit code)."""
    package = subparsers.add_parser(
        "package", help="motion packages: import, inspect, keygen, sign"
    )
    sub = package.add_subparsers(dest="package_command", required=True)

    gen = sub.add_parser("from-genmo", help="GENMO output (.pt or .npz) -> motion package")
    gen.add_argument("input", type=Path, help="GENMO smpl_params.pt or an .npz with its arrays")
    gen.add_argument("-o", "--out", type=Path, required=True, help="package file to write")
    gen.add_argument("--package-id", required=True)
    gen.add_argument("--instruction", default="", help="the task instruction text")
    gen.add_argument("--fps", type=float, default=30.0, help="GENMO frame rate (default 30)")
    gen.add_argument("--camera-view", choices=[v.value for v in CameraView], default="front")
    gen.add_argument("--wilor", type=Path, help=".npz with WiLoR hands (rows left, right)")
    gen.add_argument("--sign-key", type=Path, help="Ed25519 private key (PEM or hex seed)")
    gen.add_argument("--key-id", help="key id to claim (default: derived from the key)")
    gen.set_defaults(func=_from_genmo)

    ins = sub.add_parser("inspect", help="print a package's metadata and validation result")
    ins.add_argument("file", type=Path)
    defaults = PackageConfig()
    ins.add_argument("--max-bytes", type=int, default=defaults.max_bytes)
    ins.add_argument("--max-frames", type=int, default=defaults.max_frames)
    ins.add_argument("--require-signature", action="store_true")
    ins.add_argument(
        "--trusted-key",
        action="append",
        default=[],
        metavar="[ID=]FILE",
        help="trust a public key (PEM or hex), under its derived id unless named; repeatable",
    )
    ins.set_defaults(func=_inspect)
    add_signing_commands(sub)
