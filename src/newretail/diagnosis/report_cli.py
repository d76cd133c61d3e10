"""`newretail diagnosis report --org ORG --store CODE [--week D] [--pdf FILE] [--html FILE]
[--email ADDR ...] [--locale L] [--json]`: a store's weekly report saved as files, e-mailed
through the SMTP server of NEWRETAIL_SMTP_* (to the addresses given, else to the store's
managers), or both; with neither a file nor an address it is e-mailed to the store's managers
(docs/diagnosis.md, "Weekly report").

Beside a running server (which holds the embedded warehouse) the files come from its API and
the server sends the e-mail, through its own SMTP settings."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

import typer

from newretail.core import mail
from newretail.core.cli import Json, OrgRef, emit, out, state
from newretail.core.local_server import request, request_json, running_server, server_client
from newretail.diagnosis import peers, report
from newretail.tenancy.operator import operator_session

StoreOption = Annotated[str, typer.Option("--store", help="The store's code (or id)")]
WeekOption = Annotated[
    datetime | None,
    typer.Option(
        "--week",
        formats=["%Y-%m-%d"],
        help="A day of the week (YYYY-MM-DD, local); default: the last complete week",
    ),
]
PdfOption = Annotated[Path | None, typer.Option("--pdf", help="Save the PDF here")]
HtmlOption = Annotated[Path | None, typer.Option("--html", help="Save the HTML here")]
EmailOption = Annotated[
    list[str] | None,
    typer.Option("--email", help="E-mail it to this address (repeat for more)"),
]
LocaleOption = Annotated[
    str | None, typer.Option("--locale", help="en or zh-CN; default: the organisation's")
]


def _save(path: Path, content: bytes | str) -> str:
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8")
    else:
        path.write_bytes(content)
    return str(path)


def _print(row: dict[str, Any]) -> None:
    out.print(
        f"[bold]{row['store']}[/bold], week {row['week']['first_day']} – "
        f"{row['week']['last_day']} ({row['locale']})"
    )
    for kind in ("html", "pdf"):
        if row[kind]:
            out.print(f"saved the {kind.upper()} to {row[kind]}")
    if row["email"]:
        out.print(f'e-mailed "{row["email"]["subject"]}" to {", ".join(row["email"]["to"])}')


def _print_saved(row: dict[str, Any]) -> None:
    for kind in ("html", "pdf"):
        if row[kind]:
            out.print(f"saved the {kind.upper()} to {row[kind]}")
    if row["email"]:
        out.print(f'e-mailed "{row["email"]["subject"]}" to {", ".join(row["email"]["to"])}')


def weekly_report(
    ctx: typer.Context,
    org: OrgRef,
    store: StoreOption,
    week: WeekOption = None,
    pdf: PdfOption = None,
    html: HtmlOption = None,
    email: EmailOption = None,
    locale: LocaleOption = None,
    as_json: Json = False,
) -> None:
    """A store's weekly report (GMV, visitors, conversion, order value against the week before
    and last year, the change by factor, causes, peer tier, data quality) as HTML and PDF
    files, or e-mailed (to the addresses given, else the store's managers)."""
    day = None if week is None else week.date()
    addresses = [mail.checked_address(address) for address in email or []]
    send = bool(addresses) or (pdf is None and html is None)
    settings = state(ctx).settings()
    if running_server(settings) is not None:  # it holds the embedded warehouse
        row: dict[str, Any] = {"store": store, "html": None, "pdf": None, "email": None}
        path = f"/api/v1/diagnosis/stores/{quote(store, safe='')}/report"
        with server_client(settings, org) as client:
            for kind, target in (("html", html), ("pdf", pdf)):
                if target is None:
                    continue
                params = {"format": kind, **({"week": day.isoformat()} if day else {})}
                if locale:
                    params["locale"] = locale
                answer = request(client, "GET", path, params=params)
                row[kind] = _save(target, answer.content)
            if send:  # the server sends it, through its own SMTP settings
                body: dict[str, Any] = {"emails": addresses, "locale": locale}
                if day:
                    body["week"] = day.isoformat()
                sent = request_json(client, "POST", f"{path}/mail", json=body)
                row["email"] = {"to": sent["to"], "subject": sent["subject"]}
        emit(row, as_json, lambda: _print_saved(row))
        return
    with operator_session(ctx, org) as (container, session, principal):
        if send:
            mail.require_server(settings)  # before the report is made
        found = report.weekly_report(
            session,
            principal,
            container.warehouse,
            store,
            day,
            peers.configured(settings),
            locale,
        )
        to = report.recipients(session, principal, found, addresses) if send else []
        row = {
            "store": found.store.name,
            "store_code": found.store.code,
            "week": {
                "first_day": found.week.first.isoformat(),
                "last_day": found.week.last.isoformat(),
            },
            "time_zone": found.time_zone,
            "locale": found.locale,
            "gmv": str(found.figures.gmv),
            "html": None,
            "pdf": None,
            "email": None,
        }
        page = report.html(found)
        document = report.pdf(found) if pdf or send else None
        if html:
            row["html"] = _save(html, page)
        if pdf and document:
            row["pdf"] = _save(pdf, document)
        if send:
            message = report.send(settings, found, to, document, page)
            row["email"] = {"to": to, "subject": str(message["Subject"])}
    emit(row, as_json, lambda: _print(row))
