"""One-off jobs a server runs in a background thread, their progress read back by id.

The Data Bank's backfills and marketing's bulk issues are such jobs: each is started by a
request, runs in a daemon thread of the server, and is found again by id within its
organisation. A job lives in the server's memory only; a restart forgets it (the work it
committed stays). Periodic jobs are `newretail.core.jobs`.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable
from dataclasses import KW_ONLY, dataclass, field
from datetime import UTC, datetime
from typing import Generic, TypeVar

from newretail.core import telemetry

log = logging.getLogger(__name__)


@dataclass
class BackgroundJob:
    """What every background job reports: running, done or failed, the error, and when."""

    id: str
    organization_id: uuid.UUID
    _: KW_ONLY
    status: str = "running"  # running, done or failed
    error: str | None = None
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    finished_at: datetime | None = None


J = TypeVar("J", bound=BackgroundJob)


class JobRegistry(Generic[J]):
    """The background jobs of one kind in one server.

    `kind` names the jobs' threads (`{kind}-{id[:8]}`); `what` names a job in the log.
    """

    def __init__(self, kind: str, what: str) -> None:
        self.kind = kind
        self.what = what
        self._lock = threading.Lock()
        self._jobs: dict[str, J] = {}

    def start(self, make: Callable[[], J], work: Callable[[J], None]) -> J:
        """Record the job `make` builds and run `work(job)` in a thread; the job's status,
        error and finished_at follow it. `make` runs under the registry's lock, so it may
        look at the jobs running (`running`) and refuse by raising."""
        with self._lock:
            job = make()
            self._jobs[job.id] = job
        thread = threading.Thread(
            target=self._run, args=(job, work), name=f"{self.kind}-{job.id[:8]}", daemon=True
        )
        thread.start()
        return job

    def _run(self, job: J, work: Callable[[J], None]) -> None:
        telemetry.JOB_RUNS.labels(self.kind).inc()
        try:
            work(job)
            job.status = "done"
        except Exception as exc:  # reported through the job's status
            telemetry.JOB_FAILURES.labels(self.kind).inc()
            log.exception("%s %s failed", self.what, job.id)
            job.status, job.error = "failed", str(exc)
        finally:
            job.finished_at = datetime.now(UTC)

    def running(self, organization_id: uuid.UUID) -> list[J]:
        """The organisation's jobs still running."""
        return [job for job in self.of(organization_id) if job.status == "running"]

    def of(self, organization_id: uuid.UUID) -> list[J]:
        """The organisation's jobs, in the order they started."""
        return [job for job in self._jobs.values() if job.organization_id == organization_id]

    def find(self, organization_id: uuid.UUID, job_id: str, missing: Exception) -> J:
        """The job of that id in the organisation; `missing` is raised when there is none
        (a job of another organisation is not found either)."""
        found = self._jobs.get(job_id)
        if found is None or found.organization_id != organization_id:
            raise missing
        return found
