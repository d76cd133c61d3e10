"""Shared CLI plumbing: settings from the root options, JSON or table output, errors."""

from __future__ import annotations

import inspect
import json
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import wraps
from pathlib import Path
from typing import Annotated, Any, ParamSpec, TypeVar

import typer
from pydantic import BaseModel
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from newretail.core.errors import ConfigurationError, NewRetailError
from newretail.core.settings import Settings

P = ParamSpec("P")
R = TypeVar("R")

Json = Annotated[bool, typer.Option("--json", help="Print JSON for scripts")]
OrgRef = Annotated[str, typer.Option("--org", help="Organisation slug or id")]
PageSize = Annotated[int, typer.Option(min=1, max=500)]
PageCursor = Annotated[str | None, typer.Option(help="next_cursor of the previous page")]

out = Console()
err = Console(stderr=True)


@dataclass
class CliState:
    overrides: dict[str, Any] = field(default_factory=dict)

    def settings(self, **extra: Any) -> Settings:
        """The settings of this command; a missing data folder is never created silently."""
        settings = Settings(**{**self.overrides, **extra})
        check_data_dir(settings)
        return settings


def check_data_dir(settings: Settings) -> None:
    """Refuse a missing data folder nobody chose (the default `.newretail` of the folder the
    command runs from): it would be created empty and every list would be empty. One chosen
    with --data-dir or NEWRETAIL_DATA_DIR, or the demo's, is created and named on stderr."""
    uses_folder = settings.database_url is None or settings.warehouse_url is None
    if not uses_folder or settings.data_dir.exists():
        return
    where = settings.data_dir.resolve()
    if "data_dir" in settings.model_fields_set or settings.demo:
        err.print(f"creating the data folder {escape(str(where))}", highlight=False, soft_wrap=True)
        return
    raise ConfigurationError(
        f"there is no NewRetail data folder at {where} (the default, .newretail in the folder "
        "the command runs from); run the command where the data folder is, choose it with "
        "--data-dir DIR or NEWRETAIL_DATA_DIR=DIR, or create one with `newretail demo`",
        field="data_dir",
    )


def state(ctx: typer.Context) -> CliState:
    root = ctx.find_root()
    if not isinstance(root.obj, CliState):
        root.obj = CliState()
    return root.obj


# The options of every command that opens the stores (and of the root): name, type, help.
_STORE_OPTION_HELP: list[tuple[str, type, str]] = [
    ("data_dir", Path, "Embedded data dir [env NEWRETAIL_DATA_DIR]"),
    ("database_url", str, "Operational store URL [env NEWRETAIL_DATABASE_URL]"),
    ("warehouse_url", str, "Warehouse URL [env NEWRETAIL_WAREHOUSE_URL]"),
]
_STORE_OPTIONS = [
    inspect.Parameter(
        name,
        inspect.Parameter.KEYWORD_ONLY,
        default=None,
        annotation=Annotated[kind | None, typer.Option(help=text)],
    )
    for name, kind, text in _STORE_OPTION_HELP
]


def store_options(function: Callable[P, R]) -> Callable[P, R]:
    """Give a command the --data-dir/--database-url/--warehouse-url options (it takes ctx);
    the values given override the settings of the command and of those it calls."""
    signature = inspect.signature(function, eval_str=True)

    @wraps(function)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        chosen = {name: kwargs.pop(name) for name, _, _ in _STORE_OPTION_HELP}
        overrides = state(kwargs["ctx"]).overrides  # type: ignore[arg-type]
        overrides.update({name: value for name, value in chosen.items() if value is not None})
        return function(*args, **kwargs)

    parameters = [*signature.parameters.values(), *_STORE_OPTIONS]
    wrapper.__signature__ = signature.replace(parameters=parameters)  # type: ignore[attr-defined]
    return wrapper


def emit(data: Any, as_json: bool, human: Callable[[], None] | None = None) -> None:
    """JSON for scripts (--json), or a human rendering."""
    if as_json or human is None:
        sys.stdout.write(json.dumps(data, default=str, ensure_ascii=False, indent=2) + "\n")
    else:
        human()


def api_json(schema: type[BaseModel], row: Any) -> dict[str, Any]:
    """A row as the API answers it (through its read schema), in JSON types."""
    return schema.model_validate(row).model_dump(mode="json")


def table(title: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """A table on standard output; a narrow terminal folds long values onto more lines rather
    than cutting them short (a figure is never shown as '¥39,859…')."""
    grid = Table(title=title)
    for column in columns:
        grid.add_column(column, overflow="fold")
    for row in rows:
        grid.add_row(*["" if v is None else str(v) for v in row])
    out.print(grid)


def stderr_progress(label: str, *, hidden: bool, time_left: bool = False) -> Progress:
    """A progress bar on standard error: the label (rich markup; `{task.description}` names
    the current item), the bar, done of total, then the time taken or, with `time_left`,
    the time remaining."""
    clock = TimeRemainingColumn() if time_left else TimeElapsedColumn()
    return Progress(
        TextColumn(label), BarColumn(), MofNCompleteColumn(), clock, console=err, disable=hidden
    )


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


def command(
    app: typer.Typer, name: str | None = None, *, with_store_options: bool = True
) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Register a command of `app`: its domain errors print as `error [code] field: message`
    (exit 2) and, unless `with_store_options` is off, it takes the --data-dir,
    --database-url and --warehouse-url options."""

    def register(function: Callable[P, R]) -> Callable[P, R]:
        wrapped = domain_errors(store_options(function) if with_store_options else function)
        app.command(name)(wrapped)
        return wrapped

    return register
