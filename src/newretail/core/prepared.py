"""Hot-path statements on PostgreSQL, sent in the server's own `$n` form.

A till's sale runs a few fixed statements many times a second. Each is converted once, at
import, from its readable `%(name)s` form to PostgreSQL's `$1, $2 ...` (psycopg otherwise
converts on every call: it caches its conversion only for statements under 4 kB), then run
through a raw cursor on the session's own connection, so it shares the sale's transaction.
psycopg prepares a statement on the server after a few runs; a statement's plan is chosen
once for all values when its parameters are scalars (an array parameter keeps PostgreSQL
planning it again on every run).

`fetch_one` of a statement whose parameters it types itself (`typed`) on a connection with
no transaction open yet (a sale's first statement) sends
BEGIN, the statement and a Sync together in libpq's pipeline mode: one round trip instead of
psycopg's two (it waits for BEGIN's answer before sending the statement). The transaction is
the same one psycopg would have begun (plain BEGIN: the connection sets no isolation level,
read-only or deferrable option, else the ordinary path runs), still open afterwards for the
caller's other statements and its COMMIT. The statement is prepared on the server under its
own name at its first run on a connection, its parameters sent as text and typed by the
statement (each is cast or compared with a column), so one plan serves every call.
"""

from __future__ import annotations

import hashlib
import re
import weakref
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg import errors, generators, pq
from psycopg.adapt import PyFormat, Transformer
from psycopg.rows import RowFactory, tuple_row

_PLACEHOLDER = re.compile(r"%\((\w+)\)s|%%")


@dataclass(frozen=True)
class NumberedQuery:
    """A statement in `$n` form and the parameter names in `$n` order."""

    text: bytes
    names: tuple[str, ...]
    name: bytes = field(default=b"", compare=False)  # its prepared statement's name
    # every parameter's type follows from the statement (a cast, a column it is compared
    # with): it may be prepared before its first values are known (`fetch_one`'s BEGIN)
    typed: bool = False

    @classmethod
    def of(cls, query: str, *, typed: bool = False) -> NumberedQuery:
        names: list[str] = []

        def number(match: re.Match[str]) -> str:
            name = match.group(1)
            if name is None:  # an escaped percent sign
                return "%"
            if name not in names:
                names.append(name)
            return f"${names.index(name) + 1}"

        text = _PLACEHOLDER.sub(number, query).encode()
        name = b"nr_" + hashlib.blake2b(text, digest_size=10).hexdigest().encode()
        return cls(text, tuple(names), name, typed)

    def values(self, parameters: Mapping[str, Any]) -> list[Any]:
        """The positional values of `parameters` (a missing name is a KeyError)."""
        return [parameters[name] for name in self.names]


def driver_of(connection: Any) -> psycopg.Connection[Any]:
    """The psycopg connection under a SQLAlchemy `Connection` (its transaction's own)."""
    driver = connection.connection.driver_connection
    assert isinstance(driver, psycopg.Connection)
    return driver


def fetch_one(
    driver: psycopg.Connection[Any], query: NumberedQuery, parameters: Mapping[str, Any]
) -> Any:
    """Run the statement; its first row (None: it returned none). The transaction's first
    statement goes with its BEGIN in one round trip (see the module's docstring)."""
    if query.typed and _plain_begin(driver):
        return _begin_and_fetch_one(driver, query, query.values(parameters))
    with psycopg.RawCursor(driver) as cursor:
        cursor.execute(query.text, query.values(parameters))
        return cursor.fetchone()


_BEGIN = b"BEGIN"
_PREPARED: weakref.WeakKeyDictionary[psycopg.Connection[Any], set[bytes]] = (
    weakref.WeakKeyDictionary()
)


def _plain_begin(driver: psycopg.Connection[Any]) -> bool:
    """True when psycopg would now send a plain BEGIN before the next statement."""
    return (
        not driver.autocommit
        and driver.pgconn.transaction_status == pq.TransactionStatus.IDLE
        and driver.isolation_level is None
        and driver.read_only is None
        and driver.deferrable is None
        and driver._pipeline is None
    )


def _begin_and_fetch_one(
    driver: psycopg.Connection[Any], query: NumberedQuery, values: Sequence[Any]
) -> Any:
    transformer = Transformer(driver)
    params = transformer.dump_sequence(values, [PyFormat.TEXT] * len(values))
    prepared = _PREPARED.setdefault(driver, set())
    try:
        result = _begin_and_execute(driver, query, params, prepared)
    except errors.InvalidSqlStatementName:
        # psycopg deallocates every prepared statement at some rollbacks: undo the BEGIN
        # (nothing else ran in this transaction) and prepare the statement again
        prepared.discard(query.name)
        driver.rollback()
        result = _begin_and_execute(driver, query, params, prepared)
    if result.status != pq.ExecStatus.TUPLES_OK:
        raise errors.InterfaceError(f"unexpected answer to the statement: {result.status.name}")
    if not result.ntuples:
        return None
    transformer.set_pgresult(result)
    return transformer.load_row(0, tuple)


def _begin_and_execute(
    driver: psycopg.Connection[Any],
    query: NumberedQuery,
    params: Sequence[Any],
    prepared: set[bytes],
) -> Any:
    """BEGIN and the statement in one round trip; the statement's result."""
    prepare = query.name not in prepared
    with driver.lock:
        results = driver.wait(_begin_and_run(driver.pgconn, query, params, prepare))
    if prepare and results[1].status == pq.ExecStatus.COMMAND_OK:
        prepared.add(query.name)
    for result in results:
        if result.status == pq.ExecStatus.FATAL_ERROR:
            raise errors.error_from_result(result, encoding=driver.pgconn._encoding)
    return results[-1]


def _begin_and_run(pgconn: Any, query: NumberedQuery, params: Sequence[Any], prepare: bool) -> Any:
    """BEGIN, the statement (prepared first if `prepare`) and a Sync in pipeline mode; the
    answer of each command (BEGIN's, the Parse's if any, the statement's)."""
    pgconn.enter_pipeline_mode()
    try:
        pgconn.send_query_params(_BEGIN, None)
        if prepare:
            pgconn.send_prepare(query.name, query.text)
        pgconn.send_query_prepared(query.name, params)
        pgconn.pipeline_sync()
        yield from generators.send(pgconn)
        answers = []
        for _ in range(3 if prepare else 2):
            results = yield from generators.fetch_many(pgconn)
            answers.append(results[-1])
        synced = yield from generators.fetch_many(pgconn)
        assert synced[0].status == pq.ExecStatus.PIPELINE_SYNC, synced[0].status
    finally:
        pgconn.exit_pipeline_mode()
    return answers


def fetch_all(
    driver: psycopg.Connection[Any],
    query: NumberedQuery,
    parameters: Mapping[str, Any],
    row_factory: RowFactory[Any] = tuple_row,
) -> list[Any]:
    """Run the statement; its rows (shaped by `row_factory`)."""
    with psycopg.RawCursor(driver, row_factory=row_factory) as cursor:
        cursor.execute(query.text, query.values(parameters))
        return cursor.fetchall()
