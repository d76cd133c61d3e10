from __future__ import annotations

from pathlib import Path

import pytest

from newretail.core.errors import ConfigurationError
from newretail.core.i18n import catalogue, negotiate, translator
from newretail.core.settings import Settings, normalise_database_url


def test_secret_key_is_refused_outside_the_demo(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError) as refused:
        Settings(data_dir=tmp_path).session_secret()
    assert refused.value.field == "secret_key"
    with pytest.raises(ConfigurationError):
        Settings(data_dir=tmp_path, secret_key="short").session_secret()
    assert Settings(data_dir=tmp_path, secret_key="k" * 32).session_secret() == "k" * 32


def test_demo_keeps_a_random_secret_in_the_data_dir(tmp_path: Path) -> None:
    first = Settings(data_dir=tmp_path, demo=True).session_secret()
    second = Settings(data_dir=tmp_path, demo=True).session_secret()
    assert first == second and len(first) == 64
    assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600


def test_default_urls_point_into_the_data_dir(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    assert settings.resolved_database_url == f"sqlite:///{tmp_path / 'newretail.sqlite3'}"
    assert settings.resolved_warehouse_url == f"duckdb://{tmp_path / 'warehouse.duckdb'}"
    assert settings.is_embedded


def test_environment_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWRETAIL_DATABASE_URL", "postgresql://u@db:5432/retail")
    monkeypatch.setenv("NEWRETAIL_MAX_BODY_BYTES", "2048")
    settings = Settings()
    assert settings.resolved_database_url == "postgresql+psycopg://u@db:5432/retail"
    assert settings.max_body_bytes == 2048 and not settings.is_embedded
    assert normalise_database_url("postgres://a@b/c") == "postgresql+psycopg://a@b/c"


@pytest.mark.parametrize(
    ("header", "locale"),
    [
        (None, "en"),
        ("zh-CN,zh;q=0.9", "zh-CN"),
        ("zh-TW", "zh-CN"),
        ("en-US,en;q=0.9,zh;q=0.8", "en"),
        ("fr-FR,zh;q=0.5,en;q=0.4", "zh-CN"),
        ("de-DE", "en"),
        ("en;q=0.1,zh;q=0.9", "zh-CN"),
    ],
)
def test_accept_language_negotiation(header: str | None, locale: str) -> None:
    assert negotiate(header) == locale


def test_catalogues_have_the_same_keys_and_format() -> None:
    english, chinese = catalogue("en"), catalogue("zh-CN")
    assert set(english) == set(chinese)
    assert translator("zh-CN")("stores.count", count=3) == "共 3 家门店"
    assert translator("fr")("nav.stores") == "Stores"
