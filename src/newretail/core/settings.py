"""Settings from the environment (`NEWRETAIL_*`), with the embedded default under ./.newretail/."""

from __future__ import annotations

import os
import secrets
from decimal import Decimal, InvalidOperation
from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from newretail.core.errors import ConfigurationError
from newretail.core.limits import DEFAULT_MAX_RANGE_DAYS, MAX_RANGE_DAYS_CEILING
from newretail.core.ratelimit import Rate

SECRET_FILE = "secret_key"  # noqa: S105 (a file name)
DEMO_MIN_PEERS = 2
DEMO_TIER_CUT_POINTS = "50"


class Settings(BaseSettings):
    """Everything NewRetail reads from its environment."""

    model_config = SettingsConfigDict(
        env_prefix="NEWRETAIL_", env_nested_delimiter="__", extra="ignore"
    )

    data_dir: Path = Field(default=Path(".newretail"), description="Embedded data directory")
    database_url: str | None = Field(
        default=None, description="Operational store; default SQLite file in the data dir"
    )
    warehouse_url: str | None = Field(
        default=None, description="Warehouse; default DuckDB file in the data dir"
    )
    sqlite_busy_timeout_seconds: float = Field(
        default=30,
        gt=0,
        description="How long a SQLite writer waits for the write lock before the request is "
        "answered 503 `unavailable` (embedded store)",
    )
    secret_key: SecretStr | None = Field(
        default=None, description="Signs console sessions; required outside the demo"
    )
    demo: bool = Field(default=False, description="Embedded demo mode (make run)")
    max_body_bytes: int = Field(default=1024 * 1024, ge=1024)
    max_range_days: int = Field(
        default=DEFAULT_MAX_RANGE_DAYS,
        ge=7,
        le=MAX_RANGE_DAYS_CEILING,
        description="The longest span of days one API request covers (core/limits.py)",
    )
    session_hours: int = Field(default=12, ge=1)
    login_max_failures: int = Field(default=5, ge=1)
    login_lockout_minutes: int = Field(default=15, ge=1)
    # abuse limits (docs/security.md): GCRA rates, shared through Redis when it is set
    redis_url: str | None = Field(
        default=None,
        description="Redis (redis://host:6379/0) sharing rate limits between server processes; "
        "unset: each process limits in its own memory",
    )
    write_key_rate_per_second: float = Field(
        default=1000, ge=0, description="Collector requests per second per write key; 0: none"
    )
    write_key_rate_burst: int = Field(default=2000, ge=1, description="…of them at once")
    api_key_rate_per_second: float = Field(
        default=100, ge=0, description="API requests per second per API key; 0: no limit"
    )
    api_key_rate_burst: int = Field(default=200, ge=1, description="…of them at once")
    login_address_max_failures: int = Field(
        default=20, ge=0, description="Failed console sign-ins per client address (0: no limit)"
    )
    login_address_window_minutes: int = Field(
        default=15, ge=1, description="…within this many minutes, after which they are forgiven"
    )
    # the HTTP server (uvicorn) of `newretail serve`: slow clients and headers (docs/security.md)
    http_parser: Literal["httptools", "h11"] = Field(
        default="httptools",
        description="httptools (fast; no header size limit) or h11 (bounds a request's "
        "incomplete head to NEWRETAIL_MAX_HEADER_BYTES, answering 400 beyond it)",
    )
    max_header_bytes: int = Field(
        default=16 * 1024, ge=1024, description="With the h11 parser: a request head's limit"
    )
    http_keep_alive_seconds: int = Field(
        default=5, ge=1, description="An idle keep-alive connection is closed after this"
    )
    http_limit_concurrency: int | None = Field(
        default=None,
        ge=1,
        description="Connections and requests in progress at most; more answer 503 (unset: none)",
    )
    outbox_relay_seconds: float = Field(
        default=1.0, ge=0, description="How often the server relays the outbox; 0 turns it off"
    )
    maintenance_seconds: float = Field(
        default=3600, ge=0, description="How often points unlock/expire and tiers are reviewed"
    )
    webhook_send_seconds: float = Field(
        default=1.0, ge=0, description="How often the server sends due webhooks; 0 turns it off"
    )
    # the operations centre
    diagnosis_min_peers: int = Field(
        default=5,
        ge=1,
        description="Peer-tier figures are shown only for a cell of at least this many stores",
    )
    diagnosis_tier_cut_points: str = Field(
        default="40,65,85,95,99",
        description=(
            "Percentile ranks (comma-separated, strictly increasing, between 0 and 100) above "
            "which a store with sales is in tier 3, 4, …; tier 1 is no sales, tier 2 at or "
            "below the first"
        ),
    )
    # (the demo's own, unless set: see _demo_peer_tiers)
    diagnosis_outbox_late_minutes: int = Field(
        default=15,
        ge=1,
        description="Undelivered outbox rows older than this mark diagnoses as maybe incomplete",
    )
    weekly_report_hour: int | None = Field(
        default=None,
        ge=0,
        le=23,
        description=(
            "Local hour on Monday from which the server e-mails each store manager the last"
            " week's store report; unset: no scheduled report"
        ),
    )
    diagnosis_home_cache_seconds: float = Field(
        default=60,
        ge=0,
        description="The console's home page figures are kept this long while the warehouse's "
        "events are unchanged (DuckDB); 0 reads the warehouse on every load",
    )
    # outgoing e-mail (the weekly store report): NEWRETAIL_SMTP_HOST, _PORT, _USER, _PASSWORD,
    # _FROM, _STARTTLS
    smtp_host: str | None = Field(
        default=None, description="SMTP server that sends e-mail; unset: e-mail is refused"
    )
    smtp_port: int = Field(default=587, ge=1, le=65535, description="Its port")
    smtp_user: str | None = Field(default=None, description="SMTP login (none: no login)")
    smtp_password: SecretStr | None = Field(default=None, description="SMTP password")
    smtp_from: str = Field(
        default="NewRetail <newretail@localhost>", description="The From of e-mail sent"
    )
    smtp_starttls: bool = Field(
        default=True, description="Upgrade the connection with STARTTLS before logging in"
    )
    # the collector
    dedupe_window_days: int = Field(default=7, ge=1, description="Message ids stored once")
    max_batch_events: int = Field(default=500, ge=1, le=10_000)
    max_event_bytes: int = Field(default=32 * 1024, ge=256, description="Properties, as JSON")
    max_property_depth: int = Field(default=5, ge=1, le=32)
    max_event_age_days: int = Field(default=365, ge=1, description="Older events are refused")
    max_future_skew_seconds: int = Field(default=600, ge=0)
    event_load_interval_ms: int = Field(
        default=200, ge=0, le=60_000, description="How long accepted events wait for the loader"
    )
    checker_processes: int = Field(
        default=1,
        ge=0,
        le=32,
        description="Child processes that check large ingestion bodies (0: the server does)",
    )
    max_decoded_body_bytes: int = Field(
        default=8 * 1024 * 1024, ge=1024, description="A gzip body, once decompressed"
    )
    failed_event_retention_days: int = Field(
        default=30, ge=1, description="Failed events (raw payloads) are deleted after this"
    )
    event_stream_url: str | None = Field(
        default=None,
        description="NATS JetStream (nats://host:4222): collectors publish, loaders store",
    )
    event_stream_name: str = Field(
        default="NEWRETAIL_EVENTS", pattern=r"^[A-Za-z0-9_-]{1,64}$", description="Its stream"
    )
    log_format: Literal["plain", "json"] = Field(
        default="plain",
        description="`newretail serve`'s log lines: plain text or one JSON object a line",
    )
    ready_max_load_backlog: int = Field(
        default=1000, ge=0, description="/readyz answers 503 over this many unloaded batches"
    )
    ready_max_outbox_backlog: int = Field(
        default=50_000, ge=0, description="…or over this many unpublished outbox rows"
    )
    ready_max_stream_lag: int = Field(
        default=10_000, ge=0, description="…or over this many unacknowledged stream messages"
    )

    @model_validator(mode="after")
    def _demo_peer_tiers(self) -> Settings:
        """The demo's peer groups (category × format) hold one to five stores, so with 7 tiers
        and 5 stores a cell every tier cell is too small to show figures or grades. Unless
        they are set, the demo tiers in halves (cut-point 50: tiers 1–3) and shows a tier's
        figures from 2 stores; its pages say so (`demo_peer_tiers`)."""
        if self.demo:
            if "diagnosis_min_peers" not in self.model_fields_set:
                self.diagnosis_min_peers = DEMO_MIN_PEERS
            if "diagnosis_tier_cut_points" not in self.model_fields_set:
                self.diagnosis_tier_cut_points = DEMO_TIER_CUT_POINTS
        return self

    @property
    def demo_peer_tiers(self) -> bool:
        """Whether the demo's own peer-tier settings are in force."""
        return self.demo and (self.diagnosis_min_peers, self.diagnosis_tier_cut_points) == (
            DEMO_MIN_PEERS,
            DEMO_TIER_CUT_POINTS,
        )

    @field_validator("diagnosis_tier_cut_points")
    @classmethod
    def _cut_points(cls, text: str) -> str:
        """Refuse cut-points that do not parse or do not increase within (0, 100), naming
        the variable; stored normalised ("40,65,85,95,99")."""
        name = "NEWRETAIL_DIAGNOSIS_TIER_CUT_POINTS"
        cuts: list[Decimal] = []
        for item in text.split(","):
            try:
                cut = Decimal(item.strip())
            except InvalidOperation:
                raise ValueError(f"{name}: {item.strip()!r} is not a number") from None
            if not cut.is_finite() or not 0 < cut < 100:
                raise ValueError(f"{name}: {cut} is not strictly between 0 and 100")
            if cuts and cut <= cuts[-1]:
                raise ValueError(f"{name}: the cut-points must increase ({cut} follows {cuts[-1]})")
            cuts.append(cut)
        return ",".join(str(cut) for cut in cuts)

    @property
    def tier_cut_points(self) -> tuple[Decimal, ...]:
        """The peer tiers' cut-points as numbers."""
        return tuple(Decimal(cut) for cut in self.diagnosis_tier_cut_points.split(","))

    def write_key_rate(self) -> Rate:
        """The collector's rate per write key."""
        return Rate(self.write_key_rate_per_second, self.write_key_rate_burst)

    def api_key_rate(self) -> Rate:
        """The API's rate per API key."""
        return Rate(self.api_key_rate_per_second, self.api_key_rate_burst)

    def login_address_rate(self) -> Rate:
        """Failed sign-ins per client address: `max_failures` at once, then one more each
        `window / max_failures` (the whole allowance back after the window)."""
        failures = self.login_address_max_failures
        per_second = failures / (self.login_address_window_minutes * 60) if failures else 0.0
        return Rate(per_second, max(failures, 1))

    def stream_warehouse_url(self) -> str:
        """The warehouse of the JetStream pipeline, which must admit several processes."""
        url = self.resolved_warehouse_url
        if url.startswith("duckdb"):
            raise ConfigurationError(
                "NEWRETAIL_EVENT_STREAM_URL needs a PostgreSQL warehouse "
                "(NEWRETAIL_WAREHOUSE_URL): a DuckDB file admits one process",
                field="warehouse_url",
            )
        return url

    @cached_property
    def resolved_database_url(self) -> str:
        """The operational store URL, defaulting to SQLite in the data dir."""
        if self.database_url:
            return normalise_database_url(self.database_url)
        return f"sqlite:///{(self.data_dir / 'newretail.sqlite3').resolve()}"

    @cached_property
    def resolved_warehouse_url(self) -> str:
        """The warehouse URL, defaulting to a DuckDB file in the data dir."""
        if self.warehouse_url:
            return self.warehouse_url
        return f"duckdb://{(self.data_dir / 'warehouse.duckdb').resolve()}"

    @property
    def is_embedded(self) -> bool:
        """True when the operational store is the embedded SQLite file."""
        return self.resolved_database_url.startswith("sqlite")

    def ensure_data_dir(self) -> None:
        """Create the data directory (owner-only) if it is missing."""
        self.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)

    def session_secret(self) -> str:
        """The key that signs session cookies.

        Outside demo mode it must be set explicitly; the demo keeps a random one in the
        data dir so that logins survive a restart.
        """
        if self.secret_key is not None:
            value = self.secret_key.get_secret_value()
            if len(value) < 32:
                raise ConfigurationError(
                    "NEWRETAIL_SECRET_KEY must be at least 32 characters", field="secret_key"
                )
            return value
        if not self.demo:
            raise ConfigurationError(
                "NEWRETAIL_SECRET_KEY is not set; set it (32+ random characters) "
                "or run the embedded demo with `newretail demo`",
                field="secret_key",
            )
        self.ensure_data_dir()
        path = self.data_dir / SECRET_FILE
        if not path.exists():
            path.write_text(secrets.token_urlsafe(48))
            os.chmod(path, 0o600)
        return path.read_text().strip()


def normalise_database_url(url: str) -> str:
    """Use psycopg 3 for plain postgresql:// URLs."""
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url
