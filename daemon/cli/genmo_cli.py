"""``exoactor-edge package from-genmo``: a GENMO result file -> a checked motion package.

Reads ``.pt``/``.npz``/``.npy`` safely, checks shapes exactly, then judges what the robot
would do with it exactly as the daemon will at upload (``daemon.library.track_prep``): joint speeds
(a jump is refused, or smoothed with ``--smooth``) and arm self-collision (corrected and
reported, or refused). Every failure is one line on stderr with a stable code: exit 2 for a
file that cannot be imported, 1 for a motion the robot would refuse; no traceback.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from controller.robot.model_source import ModelNotFoundError, resolve_model
from daemon.library.track_prep import TrackPreparer, TrackPrepConfig
from estimators.errors import (
    GenmoErrorCode,
    GenmoImportError,
    OptionalDependencyError,
    PackageRejectedError,
    SigningKeyError,
)
from estimators.genmo import ParamSet, derive_package_id, genmo_to_package, load_genmo_file
from estimators.genmo_files import read_genmo_file
from estimators.jump_smoothing import SmoothedSpan, smooth_jumps
from estimators.package import CameraView, PackageConfig, WilorHands, encode_package, key_id_of
from estimators.package.signing import parse_private_key
from estimators.package.validate import validate_package

EXIT_OK = 0
EXIT_REJECTED = 1
EXIT_IO = 2

_WILOR_KEYS = ("hand_pose", "hand_keypoints", "hand_confidence", "hand_valid")


def add_from_genmo_arguments(gen: argparse.ArgumentParser) -> None:
    """The ``from-genmo`` options (the caller sets ``func``)."""
    gen.add_argument("input", type=Path, help="GENMO result: smpl_params.pt, .npz or .npy")
    gen.add_argument("-o", "--out", type=Path, help="package file (default: INPUT with .pkg)")
    gen.add_argument("--package-id", help="default: the file name and its SHA-256 prefix")
    gen.add_argument("--instruction", default="", help="the task instruction text")
    gen.add_argument("--fps", type=float, default=30.0, help="GENMO frame rate (default 30)")
    gen.add_argument("--camera-view", choices=[v.value for v in CameraView], default="front")
    gen.add_argument(
        "--params",
        choices=[p.value for p in ParamSet],
        default=ParamSet.GLOBAL.value,
        help="GENMO parameter set: global (gravity-aligned, default) or incam (camera frame)",
    )
    gen.add_argument(
        "--smooth",
        action="store_true",
        help="replace pose jumps by bounded transitions instead of refusing the motion",
    )
    gen.add_argument("--wilor", type=Path, help=".npz with WiLoR hands (rows left, right)")
    gen.add_argument("--mjcf", type=Path, help="robot model for the collision check")
    gen.add_argument(
        "--builtin-model", action="store_true", help="check with the built-in G1 model"
    )
    gen.add_argument("--sign-key", type=Path, help="Ed25519 private key (PEM or hex seed)")
    gen.add_argument("--key-id", help="key id to claim (default: derived from the key)")


def run_from_genmo(args: argparse.Namespace) -> int:
    """The command; returns the exit status."""
    try:
        return _from_genmo(args)
    except GenmoImportError as exc:
        _err(f"error [{exc.code.value}] {exc.source}: {exc.detail}")
    except OptionalDependencyError as exc:
        _err(f"error [{GenmoErrorCode.MISSING_DEPENDENCY.value}] {exc}")
    except ModelNotFoundError as exc:
        _err(f"error [unreadable] {exc}")
    except PackageRejectedError as exc:
        _err(f"rejected [{exc.code.value}] {exc.field}: {exc.detail}")
        return EXIT_REJECTED
    return EXIT_IO


def _from_genmo(args: argparse.Namespace) -> int:
    key = _read_signing_key(args.sign_key) if args.sign_key else None
    source = load_genmo_file(args.input, param_set=ParamSet(args.params))
    package_id = args.package_id or derive_package_id(source.name, source.sha256_hex)
    hands = load_wilor(args.wilor) if args.wilor else None
    package = genmo_to_package(
        source.params,
        package_id=package_id,
        task_instruction=args.instruction,
        camera_view=CameraView(args.camera_view),
        fps=args.fps,
        hands=hands,
        source=source.name,
        param_set=source.param_set,
    )
    validate_package(package, PackageConfig())
    preparer = TrackPreparer(
        TrackPrepConfig(model_source=resolve_model(args.mjcf, use_official=not args.builtin_model))
    )
    spans: tuple[SmoothedSpan, ...] = ()
    if args.smooth:
        package, spans = smooth_jumps(package, preparer.config.speed)
    prepared = preparer.prepare(package, with_dynamics=False)
    key_id = (args.key_id or key_id_of(key)) if key is not None else None
    data = encode_package(package, signing_key=key, key_id=key_id)
    out = args.out or args.input.with_suffix(".pkg")
    try:
        out.write_bytes(data)
    except OSError as exc:
        raise GenmoImportError(
            GenmoErrorCode.UNREADABLE, str(out), f"cannot write: {exc.strerror}"
        ) from None
    meta = package.meta
    _out(f"wrote {out} ({len(data)} bytes, {meta.n_frames} frames, {meta.duration_s:.2f} s, "
         f"id {meta.package_id})")  # fmt: skip
    for span in spans:
        _out(f"smoothed frames {span.start}..{span.end} "
             f"({span.start / meta.fps:.2f}-{span.end / meta.fps:.2f} s)")  # fmt: skip
    _out(f"checks: {prepared.report.summary()}; blend-in {prepared.report.blend_in_s:.2f} s")
    return EXIT_OK


def load_wilor(path: Path) -> WilorHands:
    """WiLoR hands from an ``.npz`` (rows left, right), read as safely as GENMO files."""
    top, _ = read_genmo_file(path)
    missing = [k for k in _WILOR_KEYS if k not in top]
    if missing:
        raise GenmoImportError(
            GenmoErrorCode.MISSING_ARRAY, path.name, f"no {missing[0]} in the WiLoR file"
        )
    try:
        return WilorHands(
            hand_pose=np.asarray(top["hand_pose"], dtype=np.float32),
            keypoints=np.asarray(top["hand_keypoints"], dtype=np.float32),
            confidence=np.asarray(top["hand_confidence"], dtype=np.float32),
            valid=np.asarray(top["hand_valid"], dtype=np.uint8),
        )
    except (TypeError, ValueError) as exc:
        raise GenmoImportError(
            GenmoErrorCode.NOT_NUMERIC, path.name, f"WiLoR arrays: {exc}"
        ) from None


def _read_signing_key(path: Path) -> Ed25519PrivateKey:
    try:
        return parse_private_key(path.read_bytes())
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise GenmoImportError(GenmoErrorCode.UNREADABLE, str(path), reason) from None
    except SigningKeyError as exc:
        raise GenmoImportError(GenmoErrorCode.BAD_METADATA, str(path), exc.detail) from None


def _out(text: str) -> None:
    sys.stdout.write(text + "\n")


def _err(text: str) -> None:
    sys.stderr.write(f"exoactor-edge: {text}\n")
