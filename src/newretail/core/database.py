"""Operational store: engines, sessions, the declarative base and the organisation scope.

Every ORM query on a tenant-owned model is filtered by the session's organisation
(`scope_session`), so isolation is enforced in one place instead of left to each query.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, ClassVar, Literal, Protocol, TypeVar

from pydantic import BaseModel
from sqlalchemy import (
    ColumnElement,
    DateTime,
    Engine,
    ForeignKey,
    MetaData,
    Select,
    Uuid,
    create_engine,
    event,
    or_,
    select,
)
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import (
    DeclarativeBase,
    Mapped,
    MappedColumn,
    ORMExecuteState,
    QueryableAttribute,
    Session,
    declared_attr,
    mapped_column,
    sessionmaker,
    with_loader_criteria,
)
from sqlalchemy.pool import ConnectionPoolEntry
from sqlalchemy.types import TypeDecorator

from newretail.core.errors import Conflict, InvalidInput, NotFound

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

ORG_KEY = "organization_id"
# a bulk UPDATE/DELETE that leaves the session's loaded objects as they are (the caller
# refreshes what it needs): execution options of `session.execute(statement, ...)`
NO_SYNC = {"synchronize_session": False}
UNSCOPED_KEY = "unscoped"

RowT = TypeVar("RowT")
SelectT = TypeVar("SelectT", bound=Select[Any])


def utcnow() -> datetime:
    """Timezone-aware now in UTC."""
    return datetime.now(UTC)


class UtcDateTime(TypeDecorator[datetime]):
    """Stores UTC; always returns aware datetimes (SQLite drops the zone otherwise)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class IdMixin:
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


def references(table: str, *, ondelete: str = "CASCADE", index: bool = True) -> MappedColumn[Any]:
    """A foreign key to `<table>.id`, indexed unless told otherwise; the row is deleted with
    the one it references unless `ondelete` says otherwise. It is nullable where its `Mapped`
    annotation is optional."""
    return mapped_column(Uuid, ForeignKey(f"{table}.id", ondelete=ondelete), index=index)


class TenantMixin:
    """A row that belongs to exactly one organisation.

    `organization_id` has an index of its own unless the table says `organization_index =
    False`: where another index starts with it, or no query reads the table by organisation
    alone (a table written in bulk then saves an index entry per row)."""

    organization_index: ClassVar[bool] = True

    @declared_attr
    def organization_id(cls) -> Mapped[uuid.UUID]:
        return mapped_column(
            Uuid,
            ForeignKey("organization.id", ondelete="CASCADE"),
            index=cls.organization_index,
            nullable=False,
        )


def create_db_engine(url: str, *, pool_size: int = 10, busy_timeout: float = 30.0) -> Engine:
    """An engine with SQLite in WAL mode and foreign keys on (a writer waits `busy_timeout`
    seconds for the write lock, a request as long for a pooled connection: every one may be
    waiting for that lock), or a pooled PostgreSQL one."""
    if url.startswith("sqlite"):
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": busy_timeout},
            pool_timeout=busy_timeout,
        )
        event.listen(engine, "connect", _sqlite_on_connect)
        event.listen(engine, "begin", _sqlite_on_begin)
        return engine
    return create_engine(url, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True)


def _sqlite_on_connect(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
    # Let SQLAlchemy emit BEGIN itself so that writers take the lock up front.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


# An execution option for a read that must not queue behind writers (a metrics scrape, a
# readiness probe): a deferred BEGIN reads a WAL snapshot without SQLite's write lock.
SQLITE_DEFERRED = "newretail_sqlite_deferred"


def _sqlite_on_begin(connection: Connection) -> None:
    deferred = connection.get_execution_options().get(SQLITE_DEFERRED, False)
    connection.exec_driver_sql("BEGIN" if deferred else "BEGIN IMMEDIATE")


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions that refuse unscoped tenant queries (see `scope_session`)."""
    factory = sessionmaker(bind=engine, expire_on_commit=False)
    return factory


def scope_session(session: Session, organization_id: uuid.UUID | None) -> Session:
    """Bind the session to one organisation; None marks an operator (CLI) session."""
    if organization_id is None:
        session.info[UNSCOPED_KEY] = True
        session.info.pop(ORG_KEY, None)
    else:
        session.info[ORG_KEY] = organization_id
        session.info.pop(UNSCOPED_KEY, None)
    return session


class UnscopedQuery(RuntimeError):
    """A tenant-owned table was queried from a session bound to no organisation."""


@event.listens_for(Session, "do_orm_execute")
def _add_organisation_filter(state: ORMExecuteState) -> None:
    if not (state.is_select or state.is_update or state.is_delete):
        return
    if state.execution_options.get("include_all_organizations", False):
        return
    if state.is_relationship_load or state.is_column_load:
        return  # the parent row was already filtered
    org_id = state.session.info.get(ORG_KEY)
    if org_id is None:
        if state.session.info.get(UNSCOPED_KEY):
            return
        touched = [
            m.entity
            for m in state.all_mappers
            if isinstance(m.entity, type) and issubclass(m.entity, TenantMixin)
        ]
        if touched:
            raise UnscopedQuery(f"query on {touched[0].__name__} from a session with no scope")
        return
    state.statement = state.statement.options(
        with_loader_criteria(
            TenantMixin,
            lambda cls: cls.organization_id == org_id,
            include_aliases=True,
        )
    )


@contextmanager
def transaction(session: Session) -> Iterator[Session]:
    """Own the session's transaction: commit on success, roll back on error, then close."""
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


@contextmanager
def session_scope(
    factory: sessionmaker[Session], organization_id: uuid.UUID | None = None
) -> Iterator[Session]:
    """One transaction for a CLI command or worker: commit on success, roll back on error."""
    with transaction(scope_session(factory(), organization_id)) as session:
        yield session


# ---------------------------------------------------------------- service helpers
def get_or_raise(
    session: Session, model: type[RowT], row_id: uuid.UUID, missing: Callable[[], Exception]
) -> RowT:
    """The row with this id in the session's organisation; `missing()` is raised without one."""
    row = session.get(model, row_id)
    if row is None:
        raise missing()
    return row


def get_or_not_found(
    session: Session, model: type[RowT], row_id: uuid.UUID, what: str, *, field: str
) -> RowT:
    """The row with this id in the session's organisation, else `<what> not found` (404)."""
    return get_or_raise(session, model, row_id, lambda: NotFound(f"{what} not found", field=field))


def by_code_or_not_found(
    session: Session, model: type[RowT], code: str, what: str, *, field: str
) -> RowT:
    """The row with this code in the session's organisation, else `no <what> with code …`."""
    row: RowT | None = session.scalar(select(model).filter_by(code=code))
    if row is None:
        raise NotFound(f"no {what} with code {code!r}", field=field)
    return row


def by_id_or_name(
    session: Session,
    model: type[RowT],
    ref: str,
    by_id: Callable[[uuid.UUID], RowT],
    missing: Callable[[], Exception],
) -> RowT:
    """The row an operator names by its id or its name (a CLI argument): `by_id` for an id
    (it raises its own not-found), else the row with that name, else `missing()`."""
    try:
        return by_id(uuid.UUID(ref))
    except ValueError:
        found: RowT | None = session.scalar(select(model).filter_by(name=ref))
    if found is None:
        raise missing()
    return found


def ids_by_code(
    session: Session,
    code: QueryableAttribute[str],
    row_id: QueryableAttribute[uuid.UUID],
    codes: Iterable[str],
    what: str,
    *,
    field: str,
) -> list[uuid.UUID]:
    """The ids of the rows with these codes, in the codes' order (one query); the first code
    no row has is refused: `no <what> with code …` (422, naming `field`)."""
    wanted = list(codes)
    found = dict(session.execute(select(code, row_id).where(code.in_(wanted))).all())
    missing = [c for c in wanted if c not in found]
    if missing:
        raise InvalidInput(f"no {what} with code {missing[0]!r}", field=field)
    return [found[c] for c in wanted]


def contains_text(text: str, *columns: QueryableAttribute[Any]) -> ColumnElement[bool]:
    """Any of the columns holds the text, in any case (a search box)."""
    return or_(*(column.ilike(f"%{text}%") for column in columns))


def where_text(statement: SelectT, text: str | None, *columns: QueryableAttribute[Any]) -> SelectT:
    """Narrow the select to rows where any of the columns holds the text, in any case (a
    search box); no text (None or empty) filters nothing."""
    return statement.where(contains_text(text, *columns)) if text else statement


def where_given(statement: SelectT, *conditions: tuple[QueryableAttribute[Any], object]) -> SelectT:
    """Narrow the select to `column == value` for every (column, value) whose value is given
    (None and empty values filter nothing)."""
    for column, value in conditions:
        if value:
            statement = statement.where(column == value)
    return statement


def flush_or_raise(session: Session, conflict: Callable[[], Exception]) -> None:
    """Flush in a savepoint; a constraint violation raises `conflict()` (the session stays
    usable: only the savepoint is rolled back)."""
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError as exc:
        raise conflict() from exc


def insert_once(session: Session, row: RowT, recorded: Callable[[], RowT | None]) -> RowT:
    """Insert a row that its unique key makes one of a kind; when a concurrent transaction
    inserted its twin first, the twin (`recorded()`) instead."""
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError:
        found = recorded()
        if found is None:
            raise
        return found
    return row


def flush_unique(session: Session, field: str, message: str) -> None:
    """Flush, turning a unique-constraint violation into a 409 naming the field."""
    flush_or_raise(session, lambda: Conflict(message, field=field))


def add_unique(session: Session, row: RowT, field: str, message: str) -> RowT:
    """Add a new row and flush it; a unique-constraint violation (a code, slug or e-mail
    already taken) is a 409 naming the field."""
    session.add(row)
    flush_unique(session, field, message)
    return row


class FieldError(Protocol):
    """An error about one input field (an error class taking `field=`, or a factory)."""

    def __call__(self, *, field: str) -> Exception: ...


def _null_refused(*, field: str) -> Exception:
    return InvalidInput("must not be null", field=field)


def refuse_nulls(
    changes: Mapping[str, object], fields: Iterable[str], refused: FieldError = _null_refused
) -> None:
    """Refuse a change that sets one of these fields to null (they cannot be cleared)."""
    for field in fields:
        if field in changes and changes[field] is None:
            raise refused(field=field)


def partial_changes(
    data: BaseModel,
    not_null: Iterable[str] | None = (),
    refused: FieldError = _null_refused,
    *,
    mode: Literal["python", "json"] = "python",
) -> dict[str, Any]:
    """The fields a partial update (PATCH) sets, by name; setting one of `not_null` to null
    is refused (`refused(field=…)`); `not_null=None` refuses it for every field."""
    changes = data.model_dump(exclude_unset=True, mode=mode)
    refuse_nulls(changes, changes.keys() if not_null is None else not_null, refused)
    return changes


def apply_changes(obj: Any, changes: Mapping[str, Any]) -> None:
    """Set each changed attribute, stamping `updated_at` where the row has one."""
    for name, value in changes.items():
        setattr(obj, name, value)
    if hasattr(obj, "updated_at"):
        obj.updated_at = utcnow()
