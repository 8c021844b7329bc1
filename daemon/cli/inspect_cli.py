"""``exoactor-edge package inspect``: what a package is, and what the robot would do with it.

Without ``--at``: metadata, arrays and the validation result, then the checks the daemon runs
at upload (``daemon.library.track_prep``): peak joint speed per joint and the self-collision
corrections. With ``--at SECONDS``: the command the runtime would send at that track time
(t = 0 at the first frame, after the blend-in): the 29 body joints by MJCF name (the track's
reference within the supervisor's soft limits, as the PD tracker commands it) and per hand its
state and Dex3 targets. ``--json`` prints one JSON object instead of text lines.

Exit status: 0 valid, 1 rejected (by validation or by the checks), 2 unreadable file or a bad
option (``--at`` outside the track).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import msgpack
import numpy as np

from controller.embodiment import dex3, g1
from controller.robot.model_source import ModelNotFoundError, resolve_model
from controller.safety import SupervisorConfig
from daemon.library.track_prep import PreparedTrack, TrackPreparer, TrackPrepConfig
from estimators.errors import PackageRejectedError, SigningKeyError
from estimators.package import DecodedPackage, PackageConfig, decode_package, key_id_of
from estimators.package.signing import parse_public_key
from estimators.track import TRACK_FPS, HandState

EXIT_OK = 0
EXIT_REJECTED = 1
EXIT_IO = 2


def add_inspect_arguments(ins: argparse.ArgumentParser) -> None:
    """The ``inspect`` options (the caller sets ``func``)."""
    ins.add_argument("file", type=Path)
    ins.add_argument(
        "--at", type=float, metavar="SECONDS", help="print the command at this track time"
    )
    ins.add_argument("--json", action="store_true", help="one JSON object on stdout")
    ins.add_argument("--mjcf", type=Path, help="robot model for the collision check")
    ins.add_argument(
        "--builtin-model", action="store_true", help="check with the built-in G1 model"
    )
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


def run_inspect(args: argparse.Namespace) -> int:
    """The command; returns the exit status."""
    try:
        data = args.file.read_bytes()
    except OSError as exc:
        _err(f"error [unreadable] {args.file}: {exc.strerror or type(exc).__name__}")
        return EXIT_IO
    try:
        config = _package_config(args)
        source = resolve_model(args.mjcf, use_official=not args.builtin_model)
    except (OSError, SigningKeyError, ValueError, ModelNotFoundError) as exc:
        _err(f"error [bad_option] {exc}")
        return EXIT_IO
    show = _Printer(args.json)
    try:
        decoded = decode_package(data, config)
    except PackageRejectedError as exc:
        meta = _peek_meta(data)
        show.rejected(args.file, len(data), meta, exc)
        return EXIT_REJECTED
    package = decoded.package
    if args.at is not None and not 0.0 <= args.at <= (package.meta.duration_s + 1e-9):
        end = package.meta.duration_s
        _err(f"error [bad_option] --at {args.at:g} s is outside the track (0 .. {end:.3f} s)")
        return EXIT_IO
    try:
        prepared = TrackPreparer(TrackPrepConfig(model_source=source)).prepare(
            package, with_dynamics=False
        )
    except PackageRejectedError as exc:
        show.rejected(args.file, len(data), package.meta.model_dump(mode="json"), exc)
        return EXIT_REJECTED
    if args.at is not None:
        show.emit(command_at(prepared, args.at))
    else:
        show.summary(args.file, decoded, prepared)
    return EXIT_OK


def command_at(prepared: PreparedTrack, t_s: float) -> dict[str, Any]:
    """What the runtime commands at track time ``t_s`` (PD tracker, default supervisor)."""
    track = prepared.track
    frame = track.frame(round(t_s * TRACK_FPS))
    supervisor = SupervisorConfig()
    center = 0.5 * (g1.Q_MIN + g1.Q_MAX)
    half = 0.5 * (g1.Q_MAX - g1.Q_MIN) * supervisor.soft_limit_factor
    q = np.clip(track.q_hw[frame], center - half, center + half)
    hands: dict[str, Any] = {}
    for hand in dex3.Hand:
        row = 0 if hand is dex3.Hand.LEFT else 1
        targets = np.clip(track.hand_q[frame, row], dex3.HAND_Q_MIN[row], dex3.HAND_Q_MAX[row])
        hands[hand.name.lower()] = {
            "state": HandState(int(track.hand_state[frame, row])).name,
            "dex3": {
                j.name: round(float(v), 6)
                for j, v in zip(dex3.HAND_JOINTS[hand], targets, strict=True)
            },
        }
    return {
        "package_id": track.package_id,
        "t_s": round(frame / TRACK_FPS, 4),
        "frame": frame,
        "controller": "pd_tracker",
        "joints": {
            name: round(float(v), 6) for name, v in zip(g1.BODY_JOINT_NAMES, q, strict=True)
        },
        "hands": hands,
    }


class _Printer:
    """Text lines or one JSON object, the same facts either way."""

    def __init__(self, as_json: bool) -> None:
        self.as_json = as_json

    def emit(self, obj: dict[str, Any]) -> None:
        if self.as_json:
            _out(json.dumps(obj))
            return
        for key, value in obj.items():
            if isinstance(value, dict):
                for inner, item in value.items():
                    _out(f"{key}.{inner}: {item}")
            else:
                _out(f"{key}: {value}")

    def rejected(
        self, path: Path, size: int, meta: dict[str, Any] | None, exc: PackageRejectedError
    ) -> None:
        if self.as_json:
            verdict = {"result": "rejected", "code": exc.code.value, "field": exc.field,
                       "detail": exc.detail}  # fmt: skip
            _out(json.dumps({"file": str(path), "bytes": size, "meta": meta,
                             "validation": verdict}))  # fmt: skip
            return
        _out(f"file: {path} ({size} bytes)")
        for key, value in (meta or {}).items():
            _out(f"meta.{key}: {value}")
        _out(f"validation: REJECTED [{exc.code.value}] {exc.field}: {exc.detail}")

    def summary(self, path: Path, decoded: DecodedPackage, prepared: PreparedTrack) -> None:
        pkg = decoded.package
        arrays = {
            name: {"dtype": values.dtype.str, "shape": list(values.shape)}
            for name, values in (("global_orient", pkg.body.global_orient),
                                 ("body_pose", pkg.body.body_pose), ("transl", pkg.body.transl),
                                 ("betas", pkg.body.betas), ("g1_q_ref", pkg.g1_q_ref))
            if values is not None
        }  # fmt: skip
        report = prepared.report
        obj: dict[str, Any] = {
            "file": str(path),
            "bytes": decoded.wire_bytes,
            "meta": pkg.meta.model_dump(mode="json"),
            "duration_s": round(pkg.meta.duration_s, 3),
            "sha256": decoded.sha256_hex,
            "signed_by": decoded.signed_by,
            "arrays": arrays,
            "hands": type(pkg.hands).__name__ if pkg.hands is not None else None,
            "validation": {"result": "ok"},
            "track": {
                "frames": prepared.track.n_frames,
                "fps": TRACK_FPS,
                "blend_in_s": round(report.blend_in_s, 3),
            },
            **report.as_dict(),
        }
        if self.as_json:
            _out(json.dumps(obj))
            return
        _out(f"file: {path} ({decoded.wire_bytes} bytes)")
        for key, value in obj["meta"].items():
            _out(f"meta.{key}: {value}")
        _out(f"duration_s: {pkg.meta.duration_s:.3f}")
        _out(f"sha256: {decoded.sha256_hex}")
        _out(f"signed_by: {decoded.signed_by or '-'}")
        for name, spec in arrays.items():
            _out(f"array.{name}: {spec['dtype']} {tuple(spec['shape'])}")
        if pkg.hands is not None:
            _out(f"hands: {type(pkg.hands).__name__}")
        _out("validation: OK")
        _out(f"track: {prepared.track.n_frames} frames at 50 Hz; blend-in from the standing "
             f"pose {report.blend_in_s:.2f} s")  # fmt: skip
        speeds = report.speeds
        for j in np.argsort(-speeds.peak_rad_s)[:5]:
            _out(f"peak_speed.{g1.BODY_JOINT_NAMES[j]}: {speeds.peak_rad_s[j]:.3f} rad/s at "
                 f"t {speeds.peak_frame[j] / TRACK_FPS:.2f} s")  # fmt: skip
        collision = report.collision
        if not collision.is_corrected:
            _out(f"self_collision: none (clearance >= {collision.min_clearance_m * 100:.1f} cm)")
        for c in collision.corrections:
            spans = ", ".join(f"{a:.2f}-{b:.2f} s" for a, b in c.spans_s)
            _out(f"self_collision.{c.arm}_arm: corrected, shoulder roll <= {c.max_roll_deg:.1f}°, "
                 f"elbow <= {c.max_elbow_deg:.1f}° ({spans}); before: {c.worst_pair[0]} vs "
                 f"{c.worst_pair[1]} {c.worst_before_m * 100:.1f} cm")  # fmt: skip


def _package_config(args: argparse.Namespace) -> PackageConfig:
    trusted = {}
    for item in args.trusted_key:
        key_id, _, path = item.rpartition("=")
        raw = parse_public_key(Path(path).read_bytes())
        trusted[key_id or key_id_of(raw)] = raw
    return PackageConfig(
        max_bytes=args.max_bytes,
        max_frames=args.max_frames,
        require_signature=args.require_signature,
        trusted_keys=trusted,
    )


def _peek_meta(data: bytes) -> dict[str, Any] | None:
    """Best-effort metadata of a package that failed validation (for the report only)."""
    try:
        outer = msgpack.unpackb(data, raw=False)
        inner = msgpack.unpackb(outer["body"], raw=False)
        meta = inner["meta"]
    except (ValueError, TypeError, KeyError, msgpack.UnpackException):
        return None
    return meta if isinstance(meta, dict) else None


def _out(text: str) -> None:
    sys.stdout.write(text + "\n")


def _err(text: str) -> None:
    sys.stderr.write(f"exoactor-edge: {text}\n")
