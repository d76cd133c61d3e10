"""The process's own Prometheus metrics that domains record as they work.

Request counts and the gauges read at scrape time belong to an app (`core.http.Metrics`);
what the collector, the reach listener and the job runners count lives here, once per process,
and `/metrics` serves both. Labels stay few and fixed (an outcome, a job's name): never an
organisation, a member or a store, so the series do not grow with the data.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram

REGISTRY = CollectorRegistry()

EVENTS = Counter(
    "newretail_events",
    "Events the collector answered for, by outcome: accepted (newly stored), duplicate "
    "(a message id already received), rejected (invalid, kept aside as failed events)",
    ["outcome"],
    registry=REGISTRY,
)

REACH_DECISION_SECONDS = Histogram(
    "newretail_reach_decision_seconds",
    "Time to decide on one loaded batch's trigger events of one organisation (consent, caps, "
    "holdout, offer and delivery, in one transaction)",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
    registry=REGISTRY,
)

JOB_RUNS = Counter(
    "newretail_job_runs",
    "Runs of the server's background jobs (periodic jobs by name, one-off jobs by kind)",
    ["job"],
    registry=REGISTRY,
)

JOB_FAILURES = Counter(
    "newretail_job_failures",
    "Runs of background jobs that ended with an error (logged with its traceback)",
    ["job"],
    registry=REGISTRY,
)
