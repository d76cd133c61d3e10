"""The demo's behavioural events: the traffic simulator against the demo server, once.

`newretail demo` (and so `make run`) seeds the organisation, starts this in a background
thread and then serves. The thread waits until the server answers, simulates DEMO_DAYS days
of DEMO_RATE sessions a day through the server's own collector and orders API, and writes
`demo-traffic.json` (the run's report) to the data folder. The console is up at once; the
timelines and the Data Bank fill up over the next minutes. The thread first lets the
server's relay publish the seeded outbox (about 50,000 commerce facts) so the two do not
compete for the embedded stores. A run that was interrupted is run again on the next start
with the same period end (kept in `demo-traffic.started`), so it sends the same ids and
nothing is stored twice.
"""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime
from pathlib import Path

from newretail.bootstrap import bootstrap
from newretail.core.cli import err
from newretail.core.database import session_scope
from newretail.core.settings import Settings
from newretail.simulator.access import simulator_access
from newretail.simulator.driver import run_simulation
from newretail.simulator.server import BACKLOG_SECONDS, wait_for_outbox, wait_until_up

DEMO_DAYS = 30
DEMO_RATE = 200
DEMO_SEED = 42
REPORT_FILE = "demo-traffic.json"
STARTED_FILE = "demo-traffic.started"  # the end of the simulated period, kept for a re-run
START_SECONDS = 300


def traffic_report_path(settings: Settings) -> Path:
    return Path(settings.data_dir) / REPORT_FILE


def _period_end(settings: Settings) -> datetime:
    """The end of the demo's period: chosen on the first start, reused by a re-run so that
    it sends the very same ids (and stores nothing twice)."""
    path = Path(settings.data_dir) / STARTED_FILE
    if path.exists():
        try:
            return datetime.fromisoformat(path.read_text(encoding="utf-8").strip())
        except ValueError:
            pass
    end = datetime.now(UTC)
    path.write_text(end.isoformat(), encoding="utf-8")
    return end


def start_demo_traffic(
    settings: Settings, host: str, port: int, organization: str = "demo"
) -> threading.Thread | None:
    """Simulate the demo's traffic in the background once the server answers (once per data
    folder); None when it already ran."""
    if traffic_report_path(settings).exists():
        return None
    connect = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host  # noqa: S104
    url = f"http://[{connect}]:{port}" if ":" in connect else f"http://{connect}:{port}"
    thread = threading.Thread(
        target=_simulate_demo,
        args=(settings, url, organization),
        name="demo-traffic",
        daemon=True,
    )
    thread.start()
    return thread


def _simulate_demo(settings: Settings, url: str, organization: str) -> None:
    try:
        container = bootstrap(settings)
        try:
            with session_scope(container.sessions) as session:
                access = simulator_access(session, organization)
            wait_until_up(url, START_SECONDS)
            wait_for_outbox(container, BACKLOG_SECONDS)
        finally:
            container.close()
        err.print(f"demo traffic: simulating {DEMO_DAYS} days of shoppers against {url} …")
        end = _period_end(settings)
        report = run_simulation(url, access, DEMO_DAYS, DEMO_RATE, DEMO_SEED, end)
        traffic_report_path(settings).write_text(
            json.dumps(report.as_dict(), indent=2, ensure_ascii=False), encoding="utf-8"
        )
        (Path(settings.data_dir) / STARTED_FILE).unlink(missing_ok=True)
        err.print(
            f"demo traffic: {report.accepted} events stored, {report.orders} orders, "
            f"{report.members_identified} shoppers identified"
        )
    except Exception as exc:  # a background helper: report, never take the server down
        err.print(f"demo traffic stopped: {type(exc).__name__}: {exc}")
