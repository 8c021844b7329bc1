"""The task supervisor restarts dead and stuck tasks and reports health while they are down.

Real: asyncio tasks and the supervisor. Faked: nothing (time is the event loop's).
"""

from __future__ import annotations

import asyncio

from daemon.fleet.task_supervisor import TaskProgress, TaskSupervisor, TaskSupervisorConfig

FAST = TaskSupervisorConfig(stuck_after_s=0.1, restart_backoff_s=(0.05,), check_period_s=0.01)


def test_a_dead_critical_task_is_unhealthy_until_restarted() -> None:
    async def body() -> None:
        starts = 0

        async def flaky(progress: TaskProgress) -> None:
            nonlocal starts
            starts += 1
            if starts == 1:
                raise RuntimeError("injected")
            await asyncio.Event().wait()

        supervisor = TaskSupervisor(config=FAST)
        supervisor.spawn("flaky", flaky)
        seen_unhealthy = False
        for _ in range(100):
            await asyncio.sleep(0.01)
            seen_unhealthy = seen_unhealthy or not supervisor.is_healthy()
            if starts == 2 and supervisor.is_healthy():
                break
        assert seen_unhealthy
        assert starts == 2
        assert supervisor.restarts() == {"flaky": 1}
        await supervisor.aclose()

    asyncio.run(body())


def test_a_task_busy_too_long_is_cancelled_and_restarted() -> None:
    async def body() -> None:
        cancelled, restarted = asyncio.Event(), asyncio.Event()
        starts = 0

        async def stuck(progress: TaskProgress) -> None:
            nonlocal starts
            starts += 1
            if starts > 1:
                restarted.set()
                await asyncio.Event().wait()
            with progress.busy():
                try:
                    await asyncio.Event().wait()
                except asyncio.CancelledError:
                    cancelled.set()
                    raise

        supervisor = TaskSupervisor(config=FAST)
        supervisor.spawn("stuck", stuck)
        await asyncio.wait_for(cancelled.wait(), 2.0)
        await asyncio.wait_for(restarted.wait(), 2.0)
        assert "stuck" in supervisor.restarts()
        await supervisor.aclose()

    asyncio.run(body())


def test_waiting_for_work_is_not_being_stuck_and_non_critical_failures_keep_health() -> None:
    async def body() -> None:
        async def idle(progress: TaskProgress) -> None:
            await asyncio.Event().wait()

        async def optional(progress: TaskProgress) -> None:
            raise RuntimeError("injected")

        supervisor = TaskSupervisor(config=FAST)
        supervisor.spawn("idle", idle)
        supervisor.spawn("optional", optional, is_critical=False)
        await asyncio.sleep(0.3)
        assert supervisor.is_healthy()
        assert supervisor.restarts()["idle"] == 0
        assert supervisor.restarts()["optional"] >= 1
        await supervisor.aclose()

    asyncio.run(body())


def test_aclose_waits_at_most_its_deadline_and_names_the_tasks_that_missed_it() -> None:
    async def body() -> None:
        release = asyncio.Event()

        async def obedient(progress: TaskProgress) -> None:
            await asyncio.Event().wait()

        async def deaf(progress: TaskProgress) -> None:
            try:
                await asyncio.Event().wait()
            except asyncio.CancelledError:
                await release.wait()  # ignores the cancellation (a stuck shutdown path)

        supervisor = TaskSupervisor(config=FAST)
        supervisor.spawn("obedient", obedient)
        supervisor.spawn("deaf", deaf)
        await asyncio.sleep(0.02)
        assert await supervisor.aclose(0.1) == ["deaf"]
        release.set()
        await asyncio.sleep(0)

    asyncio.run(body())
