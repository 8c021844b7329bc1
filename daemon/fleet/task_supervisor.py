"""Keeps an adapter's long-running tasks alive, and says when they are not.

A task that dies (an exception escaped it) or is stuck (it has been busy with one item for
longer than ``stuck_after_s``) is logged, counted, cancelled if needed and restarted after a
short backoff. Until it runs again, ``is_healthy`` is False: the daemon then stops feeding the
systemd watchdog and the control process's heartbeat, so the robot holds (then damps) instead
of carrying on while commands, e-stops included, might be ignored.

A task reports progress through its ``TaskProgress``: ``busy()`` around each item it handles.
Waiting for the next item is not being stuck.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger(__name__)

TaskFactory = Callable[["TaskProgress"], Coroutine[Any, Any, None]]


class TaskProgress:
    """What a supervised task tells its supervisor: whether it is busy, and since when."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self.busy_since: float | None = None

    @contextlib.contextmanager
    def busy(self) -> Iterator[None]:
        self.busy_since = self._clock()
        try:
            yield
        finally:
            self.busy_since = None


@dataclass
class _Supervised:
    name: str
    factory: TaskFactory
    is_critical: bool
    progress: TaskProgress
    task: asyncio.Task[None] | None = None
    restarts: int = 0
    restart_at: float | None = None
    last_failure: str = ""
    is_once: bool = False


@dataclass(frozen=True)
class TaskSupervisorConfig:
    stuck_after_s: float = 10.0
    """Busy with one item this long counts as stuck (no fleet handler needs seconds)."""
    restart_backoff_s: tuple[float, ...] = (0.05, 0.2, 1.0, 2.0)
    check_period_s: float = 0.05


@dataclass
class TaskSupervisor:
    """Starts, watches and restarts named tasks. Not thread-safe: one event loop drives it.

    ``is_healthy`` may be read from another thread (it only reads attributes).
    """

    config: TaskSupervisorConfig = field(default_factory=TaskSupervisorConfig)
    clock: Callable[[], float] = time.monotonic
    _tasks: dict[str, _Supervised] = field(default_factory=dict)
    _watch: asyncio.Task[None] | None = None
    _is_unhealthy: bool = False

    def spawn(self, name: str, factory: TaskFactory, *, is_critical: bool = True) -> None:
        """Start ``factory(progress)`` as task ``name`` and keep it running."""
        entry = _Supervised(name, factory, is_critical, TaskProgress(self.clock))
        self._tasks[name] = entry
        self._start(entry)
        if self._watch is None:
            self._watch = asyncio.create_task(self._watch_loop(), name="task-supervisor")

    def spawn_once(self, name: str, factory: TaskFactory) -> None:
        """Start a task that is not restarted and not critical (it ends by itself); it is
        cancelled with the others by ``aclose``. A failure is logged."""
        entry = _Supervised(name, factory, False, TaskProgress(self.clock), is_once=True)
        self._tasks[name] = entry
        self._start(entry)

    def is_healthy(self) -> bool:
        """False while a critical task is dead, stuck or waiting for its restart."""
        return not self._is_unhealthy

    def restarts(self) -> dict[str, int]:
        return {name: entry.restarts for name, entry in self._tasks.items()}

    def failures(self) -> dict[str, str]:
        """Why each task that is down right now went down."""
        return {
            name: entry.last_failure
            for name, entry in self._tasks.items()
            if entry.restart_at is not None
        }

    async def aclose(self, timeout_s: float = 1.0) -> list[str]:
        """Cancel everything; wait at most ``timeout_s``. Returns the names of the tasks that
        did not stop in time (each logged; they are left behind, never waited for longer)."""
        watch, self._watch = self._watch, None
        tasks = [e.task for e in self._tasks.values() if e.task is not None]
        if watch is not None:
            tasks.append(watch)
        for task in tasks:
            task.cancel()
        late: list[str] = []
        if tasks:
            _, stuck = await asyncio.wait(tasks, timeout=timeout_s)
            for task in stuck:
                log.error("task %s did not stop within %.1f s", task.get_name(), timeout_s)
                late.append(task.get_name())
        self._tasks.clear()
        return sorted(late)

    # ------------------------------------------------------------------ internals
    def _start(self, entry: _Supervised) -> None:
        entry.progress.busy_since = None
        entry.restart_at = None
        entry.task = asyncio.create_task(entry.factory(entry.progress), name=entry.name)

    async def _watch_loop(self) -> None:
        while True:
            self._check()
            await asyncio.sleep(self.config.check_period_s)

    def _check(self) -> None:
        now = self.clock()
        unhealthy = False
        for name, entry in list(self._tasks.items()):
            if entry.is_once:
                self._reap_once(name, entry)
                continue
            if entry.restart_at is None:
                self._inspect(entry, now)
            if entry.restart_at is not None and now >= entry.restart_at:
                log.warning("restarting task %s (restart %d)", entry.name, entry.restarts)
                self._start(entry)
            if entry.restart_at is not None and entry.is_critical:
                unhealthy = True
        self._is_unhealthy = unhealthy

    def _reap_once(self, name: str, entry: _Supervised) -> None:
        task = entry.task
        if task is None or not task.done():
            return
        del self._tasks[name]
        exc = None if task.cancelled() else task.exception()
        if exc is not None:
            log.error("task %s failed: %r", name, exc, exc_info=exc)

    def _inspect(self, entry: _Supervised, now: float) -> None:
        task = entry.task
        failure = ""
        if task is None:
            failure = "not started"
        elif task.done():
            exc = None if task.cancelled() else task.exception()
            failure = f"died: {exc!r}" if exc is not None else "ended"
        else:
            busy_since = entry.progress.busy_since
            if busy_since is not None and now - busy_since > self.config.stuck_after_s:
                failure = f"stuck for {now - busy_since:.1f} s on one item"
                task.cancel()
        if not failure:
            return
        backoff = self.config.restart_backoff_s
        delay = backoff[min(entry.restarts, len(backoff) - 1)]
        entry.restarts += 1
        entry.last_failure = failure
        entry.restart_at = now + delay
        log.critical("task %s %s; restarting in %.2f s", entry.name, failure, delay)
