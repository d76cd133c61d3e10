"""A checker process (events.offload): `python -m newretail.events.checker_process FD` answers
the server's frames on the inherited socket FD with the checked events of each body. It is a
process entrypoint, so it builds its own stores (newretail.bootstrap)."""

from __future__ import annotations

import logging
import os
import socket
import sys

import orjson

from newretail.bootstrap import bootstrap
from newretail.core.settings import Settings
from newretail.events.checker import Checker
from newretail.events.offload import FRAME, SETTINGS_ENV, answer_frame, read_exactly

log = logging.getLogger(__name__)


def serve_child(fd: int) -> None:
    """Answer frames on the inherited socket until it closes."""
    settings = Settings.model_validate_json(os.environ[SETTINGS_ENV])
    container = bootstrap(settings)
    checker = Checker(container.sessions, settings, container.identity)
    sock = socket.socket(fileno=fd)
    generation = 0
    try:
        while (frame := read_exactly(sock, FRAME.size)) is not None:
            head_length, body_length = FRAME.unpack(frame)
            head_bytes = read_exactly(sock, head_length)
            raw = read_exactly(sock, body_length)
            if head_bytes is None or raw is None:
                break
            head = orjson.loads(head_bytes)
            if head["generation"] != generation:  # the server dropped its caches
                generation = head["generation"]
                checker.forget_catalogs()
                container.identity.invalidate()
            try:
                answer, rows = answer_frame(checker, head, raw)
            except Exception:  # an answer for every frame: the server waits in order
                log.exception("checking a request failed; the server checks it instead")
                answer, rows = {"fallback": True}, b""
            encoded = orjson.dumps(answer)
            try:
                sock.sendall(FRAME.pack(len(encoded), len(rows)) + encoded + rows)
            except OSError:  # the server is gone
                break
    finally:
        sock.close()
        container.close()


if __name__ == "__main__":
    serve_child(int(sys.argv[1]))
