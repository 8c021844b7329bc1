"""What the fleet model asks of the service: ``Step``s for the control process, and more.

A ``Step`` is one command to the control process (or the motion library) on behalf of an
action; ``daemon.fleet.vda5050.executor.StepRunner`` carries it out and reports the outcome back to
the model. A ``Reaction`` is everything one received message asks for.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from daemon.fleet.vda5050.actions import InstantAction


class StepKind(enum.Enum):
    """One command to the control process (or the motion library) on behalf of an action."""

    LOAD = "load"
    ENABLE = "enable"
    START = "start"
    STOP = "stop"
    PAUSE = "pause"
    RESUME = "resume"
    RESET_ESTOP = "reset_estop"


@dataclass(frozen=True)
class Step:
    kind: StepKind
    action_id: str
    """The action this step works for."""
    package_id: str | None = None


@dataclass(frozen=True)
class Reaction:
    """What ``receive`` asks of the service besides the steps."""

    steps: tuple[Step, ...] = ()
    is_factsheet_requested: bool = False
    generations: tuple[InstantAction, ...] = ()
    """``generateMotion`` actions to run as jobs (minutes long: never in the step queue)."""
    is_generation_cancelled: bool = False
    """A ``cancelOrder`` asked to cancel the running generation jobs."""
