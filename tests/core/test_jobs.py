from __future__ import annotations

import threading

from newretail.core.jobs import Job, JobRunner


def test_jobs_run_repeatedly_survive_failures_and_stop() -> None:
    runs: list[int] = []
    done = threading.Event()

    def flaky(context: list[int], stopping: threading.Event) -> None:
        assert not stopping.is_set()
        context.append(len(context))
        if len(context) == 2:
            raise RuntimeError("one bad run")
        if len(context) >= 4:
            done.set()

    runner = JobRunner(runs, [Job("flaky", 0.01, flaky), Job("off", 0, flaky)])
    assert [job.name for job in runner.jobs] == ["flaky"]
    runner.start()
    assert done.wait(timeout=30)
    runner.stop()
    settled = len(runs)
    assert runs[:4] == [0, 1, 2, 3]
    assert len(runs) == settled  # nothing runs after stop
