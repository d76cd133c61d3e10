"""The traffic simulator's HTTP client: the NewRetail API with the simulator's two keys,
retried where a retry is safe (every request is idempotent by its message or order ids)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx

from newretail.core.errors import Unavailable
from newretail.simulator.access import SimulatorAccess

RETRIES = 4
# answers worth another try: every request is idempotent (message ids, order ids)
RETRY_STATUSES = frozenset({500, 502, 503, 504})


class ApiClient:
    """A small client of the NewRetail API with the simulator's two keys."""

    def __init__(self, url: str, access: SimulatorAccess, timeout: float = 60.0) -> None:
        self.url = url.rstrip("/")
        self.client = httpx.Client(base_url=self.url, timeout=timeout)
        self.api_auth = {"Authorization": f"Bearer {access.api_key}"}
        self.write_auth = {"Authorization": f"Bearer {access.write_key}"}

    def close(self) -> None:
        self.client.close()

    def request(self, method: str, path: str, *, write: bool = False, **kwargs: Any) -> Any:
        """One call, retried on connection errors and 5xx answers (ids make retries safe)."""
        headers = self.write_auth if write else self.api_auth
        for attempt in range(RETRIES):
            try:
                response = self.client.request(method, path, headers=headers, **kwargs)
            except httpx.TransportError as exc:
                if attempt == RETRIES - 1:
                    raise Unavailable(f"{self.url} does not answer: {exc}", field="url") from exc
            else:
                if response.status_code not in RETRY_STATUSES or attempt == RETRIES - 1:
                    if response.status_code in (401, 403):
                        raise Unavailable(
                            f"{method} {path} was refused ({response.status_code}): "
                            f"{response.text[:200]}",
                            field="url",
                        )
                    return response
            time.sleep(2**attempt)
        raise AssertionError("unreachable")

    def pages(self, path: str, **params: Any) -> Iterator[dict[str, Any]]:
        """Every item of a keyset-paged list."""
        cursor = None
        while True:
            query = {**params, "limit": 500, **({"cursor": cursor} if cursor else {})}
            response = self.request("GET", path, params=query)
            expect(response, 200, path)
            body = response.json()
            yield from body["items"]
            cursor = body["next_cursor"]
            if not cursor:
                return


def expect(response: httpx.Response, status: int, what: str) -> None:
    """Stop the run when an answer the simulator cannot go on without is not `status`."""
    if response.status_code != status:
        raise Unavailable(
            f"{what} answered {response.status_code}: {response.text[:300]}", field="url"
        )


def problem(response: httpx.Response) -> dict[str, Any]:
    """The problem details of a refused request (or its text, when it has none)."""
    try:
        body = response.json()
    except ValueError:
        return {"message": response.text[:200]}
    return body if isinstance(body, dict) else {"message": str(body)[:200]}
