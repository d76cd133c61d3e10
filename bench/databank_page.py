"""Benchmark of the console's Data Bank page on the demo (runs alone; last line is JSON).

    .venv/bin/python bench/databank_page.py --data-dir .newretail     # a demo made by `make run`
    .venv/bin/python bench/databank_page.py                            # builds a demo (minutes)

The demo's data folder is copied (the original is not touched) and given the snapshots the
server makes by itself (the daily job fills the days the page reads). Then, in the same run
and on the same copy, the page `GET /console/databank` is timed through the ASGI app, signed
in as the demo user, after one warm-up request:
- page_s: the median of `--repeat` loads with this checkout's code;
- baseline_s: the same with the old way, the code of `--baseline-ref` (default e4e8019, the
  page before issue 11: a breakdown query per dimension, two FAST queries per week);
- speedup = baseline_s ÷ page_s; target: page_s < 1.0 on an idle machine.
Each variant runs in its own child process (PYTHONPATH on its `src`), one after the other;
the baseline's old code gets empty stand-ins for packages the project no longer installs.
The machine's load average is printed with the figures: under load every figure grows.
"""

# ruff: noqa: S603, S607 (children run this checkout's code, git and tar)

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BASELINE_REF = "e4e8019"
DEMO_EMAIL, DEMO_PASSWORD = "demo@example.com", "newretail-demo"

# Runs in the child process, with the variant's code on PYTHONPATH.
MEASURE = """
import json, statistics, sys, time
from datetime import date
from fastapi.testclient import TestClient
from newretail.bootstrap import bootstrap
from newretail.core.settings import Settings
from newretail.main import create_app

data_dir, day, repeat, email, password = sys.argv[1:6]
settings = Settings(data_dir=data_dir, demo=True, maintenance_seconds=0, outbox_relay_seconds=0)
container = bootstrap(settings)
with TestClient(create_app(container=container)) as client:
    page = client.get("/console/login")
    token = page.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    client.post("/console/login", data={"email": email, "password": password,
                "csrf_token": token}, follow_redirects=False)
    url = f"/console/databank?day={day}"
    first = client.get(url)
    assert first.status_code == 200, first.text[:500]
    times = []
    for _ in range(int(repeat)):
        started = time.perf_counter()
        response = client.get(url)
        times.append(time.perf_counter() - started)
        assert response.status_code == 200
print(json.dumps({"median_s": statistics.median(times), "min_s": min(times),
                  "times_s": [round(t, 4) for t in times]}))
"""

FILL = """
import json, sys
from newretail.bootstrap import bootstrap
from newretail.core.settings import Settings
from newretail.databank.tasks import local_yesterday, snapshot_all
settings = Settings(data_dir=sys.argv[1], demo=True, maintenance_seconds=0, outbox_relay_seconds=0)
container = bootstrap(settings)
made = snapshot_all(container)
print(json.dumps({"snapshots": made, "day": local_yesterday("Asia/Shanghai").isoformat()}))
container.close()
"""


def _child(src: Path, script: str, *args: str) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(str(path) for path in (src, *_shims(src)))}
    done = subprocess.run(
        [sys.executable, "-c", script, *args],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"child failed ({src}):\n{done.stderr[-4000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _shims(src: Path) -> list[Path]:
    """For the baseline's old code: the packages it imports that the project no longer
    installs, as empty stand-ins (the old /docs page read `swagger_ui_bundle`; the page timed
    here never touches it)."""
    if (src / "newretail" / "api.py").read_text(encoding="utf-8").find("swagger_ui_bundle") < 0:
        return []
    shim = src.parent / "shims"
    (shim / "swagger_ui_bundle").mkdir(parents=True, exist_ok=True)
    (shim / "swagger_ui_bundle" / "__init__.py").write_text(
        f"swagger_ui_path = {str(shim / 'swagger_ui_bundle')!r}\n", encoding="utf-8"
    )
    return [shim]


def _build_demo(workdir: Path) -> Path:
    """`newretail demo` in a child process until its traffic report is written."""
    data_dir = workdir / "demo"
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    command = [sys.executable, "-c", "from newretail.cli import main; main()"]
    command += ["--data-dir", str(data_dir), "demo", "--port", str(port)]
    log = (workdir / "demo.log").open("w")
    server = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 3600
        while not (data_dir / "demo-traffic.json").exists():
            if server.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"the demo did not finish: see {workdir / 'demo.log'}")
            time.sleep(2)
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=60)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()
    return data_dir


def _copy(source: Path, target: Path) -> Path:
    shutil.copytree(source, target)
    (target / "server.json").unlink(missing_ok=True)
    return target


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--data-dir", type=Path, help="a demo data folder (copied, not changed)")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--baseline-ref", default=BASELINE_REF)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="databank-page-") as scratch:
        workdir = Path(scratch)
        demo = args.data_dir.resolve() if args.data_dir else _build_demo(workdir)
        prepared = _copy(demo, workdir / "prepared")
        filled = _child(ROOT / "src", FILL, str(prepared))
        old_src = workdir / "baseline"
        old_src.mkdir()
        archive = subprocess.run(
            ["git", "-C", str(ROOT), "archive", args.baseline_ref, "src"],
            capture_output=True,
            check=True,
        )
        subprocess.run(["tar", "-x", "-C", str(old_src)], input=archive.stdout, check=True)
        measure = [filled["day"], str(args.repeat), DEMO_EMAIL, DEMO_PASSWORD]
        ours = _child(ROOT / "src", MEASURE, str(_copy(prepared, workdir / "ours")), *measure)
        baseline = _child(old_src / "src", MEASURE, str(_copy(prepared, workdir / "old")), *measure)
    result = {
        "bench": "databank_page",
        "day": filled["day"],
        "snapshots_filled": filled["snapshots"],
        "page_s": round(ours["median_s"], 4),
        "page_times_s": ours["times_s"],
        "baseline_s": round(baseline["median_s"], 4),
        "baseline_times_s": baseline["times_s"],
        "baseline_ref": args.baseline_ref,
        "speedup": round(baseline["median_s"] / ours["median_s"], 2),
        "target_s": 1.0,
        "meets_target": ours["median_s"] < 1.0,
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "cpus": os.cpu_count(),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
