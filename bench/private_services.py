"""A private PostgreSQL and a private NATS JetStream server in a temporary folder, which a fault
benchmark or test may stop, kill and restart (never the machine's shared ones).

PostgreSQL: `initdb` from NEWRETAIL_PG_BIN (default /usr/lib/postgresql/15/bin), trust auth,
listening on 127.0.0.1 at a free port. NATS: `nats-server -js` (NEWRETAIL_NATS_SERVER, default
the one on PATH or /usr/sbin/nats-server) with its JetStream store in the folder, so a restart
keeps the stream.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

PG_BIN = Path(os.environ.get("NEWRETAIL_PG_BIN", "/usr/lib/postgresql/15/bin"))
NATS_SERVER = (
    os.environ.get("NEWRETAIL_NATS_SERVER")
    or shutil.which("nats-server")
    or ("/usr/sbin/nats-server")
)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def available() -> str | None:
    """Why the private servers cannot run here (None: they can)."""
    if not (PG_BIN / "initdb").exists():
        return f"no initdb in {PG_BIN} (NEWRETAIL_PG_BIN)"
    if not Path(NATS_SERVER).exists():
        return f"no nats-server at {NATS_SERVER} (NEWRETAIL_NATS_SERVER)"
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        return "PostgreSQL does not run as root and runuser is missing"
    return None


def _wait_port(port: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on port {port}")


class PrivatePostgres:
    """A PostgreSQL cluster of its own (initdb in `folder`), started on a free port."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.data = folder / "pgdata"
        self.port = free_port()
        self._user: list[str] = []
        if os.geteuid() == 0:  # postgres refuses root: run it as the postgres (or nobody) user
            user = "postgres" if _user_exists("postgres") else "nobody"
            self._user = ["runuser", "-u", user, "--"]
            folder.mkdir(parents=True, exist_ok=True)
            shutil.chown(folder, user)
            for parent in folder.resolve().parents:  # a temporary folder is 0700: let it in
                mode = parent.stat().st_mode
                if not mode & 0o001:
                    os.chmod(parent, mode | 0o001)
        self._run(
            PG_BIN / "initdb",
            "-D",
            str(self.data),
            "-A",
            "trust",
            "-U",
            "postgres",
            "--no-sync",
            "-E",
            "UTF8",
        )
        with (self.data / "postgresql.auto.conf").open("a") as conf:
            conf.write(
                f"port = {self.port}\nunix_socket_directories = '{folder}'\n"
                "listen_addresses = '127.0.0.1'\nmax_connections = 200\n"
            )

    def _run(self, *command: object) -> None:
        subprocess.run(  # noqa: S603
            [*self._user, *map(str, command)], check=True, capture_output=True, timeout=120
        )

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def start(self) -> None:
        self._run(
            PG_BIN / "pg_ctl", "-D", self.data, "-l", self.folder / "pg.log", "-w", "-t", "60",
            "start",
        )  # fmt: skip
        _wait_port(self.port, 30)

    def stop(self, mode: str = "fast") -> None:
        """Stop (mode fast: sessions ended, a clean shutdown; immediate: like a crash)."""
        self._run(PG_BIN / "pg_ctl", "-D", self.data, "-m", mode, "-w", "-t", "60", "stop")

    def close(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):  # not running
            self.stop("immediate")


def _user_exists(name: str) -> bool:
    import pwd

    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


class PrivateNats:
    """A nats-server with JetStream whose store survives its restarts."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        with (self.folder / "nats.log").open("ab") as log:
            command = [NATS_SERVER, "-js", "-a", "127.0.0.1", "-p", str(self.port)]
            self.process = subprocess.Popen(  # noqa: S603
                [*command, "-sd", str(self.folder)],
                stdout=log,
                stderr=log,
            )
        _wait_port(self.port, 30)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    close = stop
