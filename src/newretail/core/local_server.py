"""The server on an embedded data dir, found by the CLI through `<data_dir>/server.json`.

The embedded DuckDB warehouse admits one process, and the running server holds it. So a
server on an embedded data dir announces itself: it writes `server.json` (its URL, its pid,
a random token; owner-only) and keeps only the token's hash. A CLI command that needs the
warehouse calls `running_server(settings)`; when a server answers for the same warehouse it
goes through that server's HTTP API with `server_client(settings, organization)`, instead
of opening the file ("Could not set lock on file").

The token is a local operator credential: the server accepts it only from a loopback
address, and only together with the organisation it acts on (the header
`X-NewRetail-Organization`, a slug or id), as the CLI's own operator session would.
The file is removed when the server stops; a file left by a killed server is ignored
(its pid is gone).

    info = running_server(settings)           # None: no server, open the warehouse yourself
    with server_client(settings, "acme") as client:
        rows = request_json(client, "GET", "/api/v1/databank/stages", params={"date": day})
"""

from __future__ import annotations

import contextlib
import hmac
import ipaddress
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from newretail.core.errors import ErrorCode, NewRetailError, Unavailable
from newretail.core.security import new_token, token_hash
from newretail.core.settings import Settings

SERVER_FILE = "server.json"
LOCAL_TOKEN_PREFIX = "nr_local_"  # noqa: S105 (a prefix, not a secret)
ORGANIZATION_HEADER = "X-NewRetail-Organization"


@dataclass(frozen=True)
class ServerInfo:
    """What `server.json` says about the server running on a data dir."""

    url: str
    pid: int
    token: str
    warehouse: str
    path: Path

    def headers(self, organization: str | None = None) -> dict[str, str]:
        """The local operator credential (and the organisation acted on)."""
        headers = {"Authorization": f"Bearer {self.token}"}
        if organization is not None:
            headers[ORGANIZATION_HEADER] = organization
        return headers


class ServerError(NewRetailError):
    """An error answered by the running server, with its code, message and field."""

    def __init__(self, status_code: int, code: str, message: str, field: str | None) -> None:
        super().__init__(message, field=field)
        self.status_code = status_code
        self.code = code


class Announcement:
    """The running server's side: the file it wrote and the hash of the token in it."""

    def __init__(self, path: Path, token_digest: str, pid: int) -> None:
        self.path = path
        self._token_digest = token_digest
        self._pid = pid

    def accepts(self, token: str, client_host: str | None) -> bool:
        """True for this server's token sent from a loopback address."""
        if not token.startswith(LOCAL_TOKEN_PREFIX) or not is_loopback(client_host):
            return False
        return hmac.compare_digest(token_hash(token), self._token_digest)

    def withdraw(self) -> None:
        """Remove the file, unless another server has replaced it since."""
        info = _read(self.path)
        if info is not None and info.pid == self._pid:
            with contextlib.suppress(FileNotFoundError):
                self.path.unlink()


def embedded_warehouse(settings: Settings) -> Path | None:
    """The DuckDB file of the settings, or None for a warehouse that admits several processes."""
    url = settings.resolved_warehouse_url
    if not url.startswith("duckdb://"):
        return None
    path = url.removeprefix("duckdb://")
    return Path(path).resolve() if path and path != ":memory:" else None


def announce(settings: Settings, url: str) -> Announcement | None:
    """Write `<data_dir>/server.json` for a server on an embedded warehouse (else None)."""
    warehouse = embedded_warehouse(settings)
    if warehouse is None:
        return None
    settings.ensure_data_dir()
    token = new_token(LOCAL_TOKEN_PREFIX)
    pid = os.getpid()
    body = {"url": url.rstrip("/"), "pid": pid, "token": token, "warehouse": str(warehouse)}
    path = settings.data_dir.resolve() / SERVER_FILE
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".server-", suffix=".json")
    try:
        with os.fdopen(handle, "w") as file:  # mkstemp creates it owner-only (0600)
            json.dump(body, file)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
    return Announcement(path, token_hash(token), pid)


def running_server(settings: Settings) -> ServerInfo | None:
    """The live server holding the settings' embedded warehouse, if any."""
    warehouse = embedded_warehouse(settings)
    if warehouse is None:
        return None
    info = _read(settings.data_dir.resolve() / SERVER_FILE)
    if info is None or info.warehouse != str(warehouse) or not _alive(info.pid):
        return None
    return info


def server_client(
    settings: Settings, organization: str | None = None, timeout: float = 120.0
) -> httpx.Client:
    """An HTTP client to the running server with the local operator credential set."""
    info = running_server(settings)
    if info is None:
        raise Unavailable(
            f"no NewRetail server is running on {settings.data_dir.resolve()}",
            field="data_dir",
        )
    return httpx.Client(base_url=info.url, headers=info.headers(organization), timeout=timeout)


def request(client: httpx.Client, method: str, path: str, **kwargs: Any) -> httpx.Response:
    """Call the server; a failure becomes `Unavailable` (no answer) or a `ServerError` (its
    problem details)."""
    try:
        response = client.request(method, path, **kwargs)
    except httpx.TransportError as exc:
        raise Unavailable(
            f"the NewRetail server at {client.base_url} does not answer ({exc}); "
            "restart it, or stop it and run the command again",
            field="server",
        ) from exc
    if not response.is_success:
        raise _server_error(response)
    return response


def request_json(client: httpx.Client, method: str, path: str, **kwargs: Any) -> Any:
    """Call the server and return its JSON (see `request`)."""
    response = request(client, method, path, **kwargs)
    return response.json() if response.content else None


def _server_error(response: httpx.Response) -> ServerError:
    """The server's problem details as the error the CLI prints."""
    try:
        body = response.json()
    except ValueError:
        body = {}
    if not isinstance(body, dict):
        body = {}
    return ServerError(
        response.status_code,
        str(body.get("code") or ErrorCode.UNAVAILABLE),
        str(body.get("message") or f"the server answered {response.status_code}"),
        body.get("field"),
    )


def is_loopback(host: str | None) -> bool:
    """True for 127.0.0.0/8 and ::1 (the only addresses a local credential comes from)."""
    if not host:
        return False
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def local_url(host: str, port: int) -> str:
    """The URL a local client uses to reach a server listening on host:port."""
    if host in {"", "0.0.0.0"}:  # noqa: S104 (any address: reach it through loopback)
        host = "127.0.0.1"
    elif host == "::":
        host = "::1"
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}"


def _read(path: Path) -> ServerInfo | None:
    try:
        body = json.loads(path.read_text())
        return ServerInfo(
            url=str(body["url"]),
            pid=int(body["pid"]),
            token=str(body["token"]),
            warehouse=str(body["warehouse"]),
            path=path,
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, owned by another user
        return True
    return True
