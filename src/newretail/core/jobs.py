"""Periodic background jobs inside the server process (which owns the embedded warehouse)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from newretail.core import telemetry

log = logging.getLogger(__name__)
C = TypeVar("C")


@dataclass(frozen=True)
class Job(Generic[C]):
    """`run(context, stopping)`: long runs should return soon after `stopping` is set."""

    name: str
    interval_seconds: float
    run: Callable[[C, threading.Event], object]


class JobRunner(Generic[C]):
    """Runs each job on its own thread every `interval_seconds` until stopped.

    A failing run is logged and retried at the next interval; jobs are idempotent.
    """

    def __init__(self, context: C, jobs: Sequence[Job[C]]):
        self.context = context
        self.jobs = [job for job in jobs if job.interval_seconds > 0]
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(target=self._loop, args=(job,), name=f"job-{job.name}", daemon=True)
            for job in self.jobs
        ]

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=30)

    def _loop(self, job: Job[C]) -> None:
        while not self._stop.wait(job.interval_seconds):
            self.run_once(job)

    def run_once(self, job: Job[C]) -> bool:
        """Run the job once, counted in the process's metrics; False when it failed."""
        telemetry.JOB_RUNS.labels(job.name).inc()
        try:
            job.run(self.context, self._stop)
        except Exception:
            telemetry.JOB_FAILURES.labels(job.name).inc()
            log.exception("job %s failed; it runs again in %ss", job.name, job.interval_seconds)
            return False
        return True
