"""Writes the demo's ``report.json`` and PNG plots (matplotlib, headless Agg backend)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # headless: the robot and CI have no display
import matplotlib.pyplot as plt
import numpy as np

from controller.assembly import ControlStack
from controller.embodiment import g1
from controller.robot.mujoco_backend import SimMode
from controller.safety import Mode
from controller.timing import summarize
from daemon.demo.runner import DemoRun
from estimators.track import HandState

_PLOTTED_JOINTS = ("left_shoulder_roll", "right_elbow", "left_shoulder_pitch", "left_knee")


def build_report(run: DemoRun) -> dict[str, Any]:
    stack = run.stack
    loop, sup = stack.loop, stack.supervisor
    rows = loop.timing.rows()
    timing = summarize(rows, loop.config.period_ns)
    sim = stack.backend.config if isinstance(stack, ControlStack) else None
    is_lockstep = sim is not None and sim.mode is SimMode.LOCKSTEP
    rec = run.recorder
    valid = ~np.isnan(rec.q_ref[: rec.count, 0])
    err = rec.q[: rec.count][valid] - rec.q_ref[: rec.count][valid]
    per_joint = np.sqrt(np.mean(np.square(err), axis=0)) if err.size else np.full(29, np.nan)
    duration_s = loop.ticks * loop.config.period_s
    return {
        "controller": loop.controller.kind.value,
        "model": stack.backend.source.describe()
        if isinstance(stack, ControlStack)
        else f"G1 on DDS domain {stack.backend.config.domain_id} via "
        f"{stack.backend.config.network_interface}",
        "sim_mode": sim.mode.value if sim is not None else "dds",
        "gantry": sim.use_gantry if sim is not None else None,
        "package_id": run.track.package_id,
        "ticks": loop.ticks,
        "duration_s": duration_s,
        "wall_s": run.wall_s,
        "realtime_factor": duration_s / run.wall_s if run.wall_s > 0 else None,
        "tracking_rms_rad": rec.tracking_rms_rad(),
        "blends": rec.blends(loop.config.period_s),
        "track_start_max_step_rad": rec.track_start_max_step_rad(),
        "tracking_rms_per_joint_rad": {
            name: float(v) for name, v in zip(g1.BODY_JOINT_NAMES, per_joint, strict=True)
        },
        "timing": {
            # In lock-step the tick has no wall-clock deadline, so the figures are the tick's
            # work time (read + compute + write); in real time they are lateness.
            "basis": "tick_work_time" if is_lockstep else "lateness",
            "p50_ms": timing.work_p50_ms if is_lockstep else timing.lateness_p50_ms,
            "p99_ms": timing.work_p99_ms if is_lockstep else timing.lateness_p99_ms,
            "max_ms": timing.work_max_ms if is_lockstep else timing.lateness_max_ms,
            "misses": timing.misses,
            "compute_p99_ms": timing.compute_p99_ms,
            "work_p99_ms": timing.work_p99_ms,
        },
        "modes": [
            {"tick": t.tick, "mode": t.mode.name, "cause": t.cause.name, "detail": t.detail}
            for t in sup.log.since(0)
        ],
        "result": "failed" if run.failure else "ok",
        "failure": run.failure,
    }


def write_report(
    run: DemoRun, out_dir: Path, extra: dict[str, Any] | None = None
) -> dict[str, Any]:
    """``report.json`` (``build_report`` plus ``extra``) and the PNG plots in ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    report = {**build_report(run), **(extra or {})}
    (out_dir / "report.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    _plot_tracking(run, out_dir / "tracking.png")
    _plot_timing(run, out_dir / "timing.png", report["timing"]["basis"])
    _plot_modes(run, out_dir / "modes.png")
    _plot_hands(run, out_dir / "hands.png")
    return report


def _time_axis(run: DemoRun) -> np.ndarray:
    return np.arange(run.recorder.count) * run.stack.loop.config.period_s


def _plot_tracking(run: DemoRun, path: Path) -> None:
    rec, t = run.recorder, _time_axis(run)
    fig, axes = plt.subplots(len(_PLOTTED_JOINTS), 1, figsize=(10, 8), sharex=True)
    for ax, name in zip(axes, _PLOTTED_JOINTS, strict=True):
        j = g1.joint_index(name)
        ax.plot(t, rec.q_cmd[: rec.count, j], lw=0.8, color="0.6", label="command")
        ax.plot(t, rec.q_ref[: rec.count, j], lw=1.5, label="reference")
        ax.plot(t, rec.q[: rec.count, j], lw=1.0, ls="--", label="measured")
        ax.set_ylabel(f"{name}\n[rad]", fontsize=8)
        ax.grid(alpha=0.3)
    for blend in rec.blends(run.stack.loop.config.period_s):
        is_in = blend["kind"] == "blend_in"
        start, width = float(blend["start_s"]), float(blend["duration_s"])
        for ax in axes:
            ax.axvspan(start, start + width, color="C2" if is_in else "C1", alpha=0.15, lw=0)
        axes[0].annotate("blend-in" if is_in else "blend-out", (start, 1.0),
                         xycoords=("data", "axes fraction"), va="bottom", fontsize=7)  # fmt: skip
    axes[0].legend(loc="upper right", fontsize=8)
    axes[-1].set_xlabel("time [s]")
    fig.suptitle("Tracked vs reference (reference while playing; shaded: blends)")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def _plot_timing(run: DemoRun, path: Path, basis: str) -> None:
    rows = run.stack.loop.timing.rows()
    if basis == "lateness":
        values = (rows[:, 1] - rows[:, 0]) * 1e-6
        label = "tick lateness [ms]"
    else:
        values = rows[:, 2:5].sum(axis=1) * 1e-6
        label = "tick work time (read+compute+write) [ms]"
    fig, ax = plt.subplots(figsize=(8, 4))
    ax.hist(values, bins=60, log=True)
    ax.set_xlabel(label)
    ax.set_ylabel("ticks")
    ax.set_title(f"p50 {np.percentile(values, 50):.3f} ms, p99 {np.percentile(values, 99):.3f} ms")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def _plot_modes(run: DemoRun, path: Path) -> None:
    rec, t = run.recorder, _time_axis(run)
    fig, ax = plt.subplots(figsize=(10, 2.8))
    ax.step(t, rec.mode[: rec.count], where="post")
    ax.set_yticks([m.value for m in Mode], [m.name for m in Mode])
    ax.set_xlabel("time [s]")
    ax.grid(alpha=0.3)
    ax.set_title("Supervisor mode")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def _plot_hands(run: DemoRun, path: Path) -> None:
    rec, t = run.recorder, _time_axis(run)
    fig, axes = plt.subplots(2, 1, figsize=(10, 5), sharex=True)
    for hand, ax in enumerate(axes):
        side = "left" if hand == 0 else "right"
        ax.plot(t, rec.hand_cmd[: rec.count, hand, 3], label="slot 3 command")
        ax.plot(t, rec.hand_q[: rec.count, hand, 3], ls="--", label="slot 3 measured")
        twin = ax.twinx()
        twin.step(t, rec.hand_state[: rec.count, hand], where="post", color="C3", alpha=0.6)
        twin.set_ylim(-1.3, 2.3)  # -1 (outside TRACK: no target state) sits below OPEN
        twin.set_yticks([s.value for s in HandState], [s.name for s in HandState], fontsize=7)
        ax.set_ylabel(f"{side} [rad]")
        ax.legend(loc="upper left", fontsize=8)
    axes[-1].set_xlabel("time [s]")
    fig.suptitle("Dex3 hands: target state (red) and slot-3 joint")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
