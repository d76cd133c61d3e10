"""Shared CLI plumbing: settings from the root options, JSON or table output, errors."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import wraps
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from newretail.core.errors import NewRetailError
from newretail.core.settings import Settings

P = ParamSpec("P")
R = TypeVar("R")

out = Console()
err = Console(stderr=True)


@dataclass
class CliState:
    overrides: dict[str, Any] = field(default_factory=dict)

    def settings(self, **extra: Any) -> Settings:
        return Settings(**{**self.overrides, **extra})


def state(ctx: typer.Context) -> CliState:
    root = ctx.find_root()
    if not isinstance(root.obj, CliState):
        root.obj = CliState()
    return root.obj


def set_overrides(
    ctx: typer.Context, data_dir: Path | None, database_url: str | None, warehouse_url: str | None
) -> None:
    values = {"data_dir": data_dir, "database_url": database_url, "warehouse_url": warehouse_url}
    state(ctx).overrides.update({k: v for k, v in values.items() if v is not None})


def emit(data: Any, as_json: bool, human: Callable[[], None] | None = None) -> None:
    """JSON for scripts (--json), or a human rendering."""
    if as_json or human is None:
        sys.stdout.write(json.dumps(data, default=str, ensure_ascii=False, indent=2) + "\n")
    else:
        human()


def table(title: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    grid = Table(title=title)
    for column in columns:
        grid.add_column(column)
    for row in rows:
        grid.add_row(*["" if v is None else str(v) for v in row])
    out.print(grid)


def domain_errors(function: Callable[P, R]) -> Callable[P, R]:
    """Print a domain error as `error [code] field: message` and exit 2."""

    @wraps(function)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return function(*args, **kwargs)
        except NewRetailError as exc:
            where = f" {exc.field}:" if exc.field else ""
            text = escape(f"[{exc.code}]{where} {exc.message}")
            err.print(f"[red]error[/red] {text}", highlight=False)
            raise typer.Exit(2) from exc

    return wrapper
