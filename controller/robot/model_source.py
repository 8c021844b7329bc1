"""Where the simulator's G1 model comes from: a configured MJCF, Unitree's official one, or ours.

Resolution order: (1) a configured path (it must exist: a typo must not silently fall back to
another robot); (2) Unitree's official with-hand MJCF in the ``shared/robots/unitree_g1`` folder
beside the checkout, when present; (3) the built-in model generated with ``mujoco.MjSpec``.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from pathlib import Path

OFFICIAL_MJCF_NAME = "g1_29dof_with_hand_rev_1_0.xml"
_REPO_ROOT = Path(__file__).resolve().parents[2]


class ModelKind(enum.Enum):
    FILE = "file"
    BUILTIN = "builtin"


@dataclass(frozen=True)
class ModelSource:
    kind: ModelKind
    path: Path | None
    searched: tuple[Path, ...]
    """Every place looked at, in order (for messages and reports)."""

    def describe(self) -> str:
        return str(self.path) if self.path is not None else "built-in G1 model (MjSpec)"


class ModelNotFoundError(FileNotFoundError):
    """A configured MJCF does not exist; names every place that was looked at."""

    def __init__(self, configured: Path, searched: tuple[Path, ...]) -> None:
        self.configured = configured
        self.searched = searched
        places = ", ".join(str(p) for p in searched)
        super().__init__(f"MJCF model {configured} not found (looked at: {places})")


def official_model_candidates() -> tuple[Path, ...]:
    """Places where Unitree's official with-hand MJCF may sit beside the checkout."""
    relative = Path("shared") / "robots" / "unitree_g1" / OFFICIAL_MJCF_NAME
    candidates = [_REPO_ROOT.parent / relative, Path.cwd().parent / relative]
    unique: list[Path] = []
    for candidate in candidates:
        if candidate.resolve() not in [u.resolve() for u in unique]:
            unique.append(candidate)
    return tuple(unique)


def resolve_model(
    configured: Path | None, *, base_dir: Path | None = None, use_official: bool = True
) -> ModelSource:
    """Pick the model to simulate.

    Args:
        configured: a user-configured MJCF path, or None.
        base_dir: directory that a relative ``configured`` path is relative to (the
            configuration file's folder); the current directory is tried too.
        use_official: look for Unitree's official MJCF before falling back to the built-in one.
    """
    if configured is not None:
        searched: list[Path] = []
        if configured.is_absolute():
            searched.append(configured)
        else:
            if base_dir is not None:
                searched.append(base_dir / configured)
            searched.append(Path.cwd() / configured)
        for path in searched:
            if path.is_file():
                return ModelSource(ModelKind.FILE, path.resolve(), tuple(searched))
        raise ModelNotFoundError(configured, tuple(searched))
    candidates = official_model_candidates() if use_official else ()
    for path in candidates:
        if path.is_file():
            return ModelSource(ModelKind.FILE, path.resolve(), candidates)
    return ModelSource(ModelKind.BUILTIN, None, candidates)
