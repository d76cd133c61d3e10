"""Member CSV import: validate each row, create accepted members, report rejected rows.

Columns: phone, member_card, account_id, name, gender, birth_year, city, marketing_consent.
Rows are numbered as a spreadsheet shows them (the header is row 1). A rejected row never
stops the others; each rejection names the row, the field and the reason.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, TextIO

from pydantic import ValidationError
from sqlalchemy.orm import Session

from newretail.core import csvimport
from newretail.core.csvimport import RowError
from newretail.core.errors import NewRetailError
from newretail.members import consent, schemas, service
from newretail.members.models import ConsentSource, Member
from newretail.tenancy.permissions import Permission, Principal

COLUMNS = (
    "phone",
    "member_card",
    "account_id",
    "name",
    "gender",
    "birth_year",
    "city",
    "marketing_consent",
)
_GENDERS = {
    "female": "female",
    "f": "female",
    "女": "female",
    "male": "male",
    "m": "male",
    "男": "male",
    "other": "other",
}
_YES = {"yes", "y", "true", "1", "是"}
_NO = {"no", "n", "false", "0", "否"}


@dataclass
class ImportReport(csvimport.ImportReport):
    """The toolkit's report, with how many accepted rows updated an existing member."""

    matched: int = 0

    def as_dict(self) -> dict[str, Any]:
        """The report as JSON."""
        return {
            "accepted": self.accepted,
            "matched": self.matched,
            "rejected": len(self.rejected),
            "rejections": self.rejected_in_order(),
        }


def read_rows(handle: TextIO) -> Iterator[csvimport.Row]:
    """(row number, values) of each data row; a file without the columns is refused."""
    return csvimport.read_rows(handle, COLUMNS)


def parse_row(values: dict[str, str]) -> tuple[schemas.MemberCreate, bool | None]:
    """The member and the marketing consent (None: not given) a row stands for."""
    gender_raw = values.get("gender", "").lower()
    if gender_raw and gender_raw not in _GENDERS:
        raise RowError("gender", "use female, male or other")
    birth_raw = values.get("birth_year", "")
    birth_year: int | None = None
    if birth_raw:
        if not birth_raw.isdigit() or not 1900 <= int(birth_raw) <= date.today().year:
            raise RowError("birth_year", f"a year between 1900 and {date.today().year}")
        birth_year = int(birth_raw)
    consent_raw = values.get("marketing_consent", "").lower()
    consent: bool | None = None
    if consent_raw in _YES:
        consent = True
    elif consent_raw in _NO:
        consent = False
    elif consent_raw:
        raise RowError("marketing_consent", "use yes or no")
    if not any(values.get(k) for k in ("phone", "member_card", "account_id")):
        raise RowError("phone", "a row needs a phone, a member card or an account id")
    payload = {
        "phone": values.get("phone") or None,
        "member_card": values.get("member_card") or None,
        "account_id": values.get("account_id") or None,
        "name": values.get("name") or None,
        "gender": _GENDERS.get(gender_raw),
        "birth_year": birth_year,
        "city": values.get("city") or None,
    }
    try:
        return schemas.MemberCreate.model_validate(payload), consent
    except ValidationError as exc:
        raise RowError.of_payload(exc) from exc


def import_rows(
    session: Session, principal: Principal, rows: Sequence[tuple[int, dict[str, str]]]
) -> ImportReport:
    """Create or update the members of valid rows (one savepoint each); report the others.

    A row whose phone or member card (compared by hash) belongs to a member updates that
    member; a row whose phone and card belong to two different members is refused."""
    principal.require(Permission.MANAGE_MEMBERS)
    report = ImportReport()
    for number, values in rows:
        report.rows += 1
        try:
            data, marketing = parse_row(values)
            with session.begin_nested():
                existing = _existing_member(session, principal, data)
                if existing is None:
                    member = service.create_member(session, principal, data)
                else:
                    changes = data.model_dump(
                        exclude_unset=True,
                        exclude={"join_store_id", "join_channel", "join_brand_id", "joined_at"},
                    )
                    member = service.update_member(
                        session, principal, existing.id, schemas.MemberUpdate(**changes)
                    )
                if marketing is not None:
                    consent.apply_consent(
                        session,
                        member,
                        consent.marketing_everywhere(marketing),
                        source=ConsentSource.IMPORT,
                        actor=principal.actor,
                    )
                session.flush()
        except RowError as exc:
            report.rejected.append(exc.at(number))
        except NewRetailError as exc:
            report.reject(number, exc.field or "row", exc.message)
        else:
            report.accepted += 1
            report.matched += existing is not None
    return report


def _existing_member(
    session: Session, principal: Principal, data: schemas.MemberCreate
) -> Member | None:
    by_phone = service.find_member(session, principal, "phone", data.phone) if data.phone else None
    by_card = (
        service.find_member(session, principal, "member_card", data.member_card)
        if data.member_card
        else None
    )
    if by_phone is not None and by_card is not None and by_phone.id != by_card.id:
        raise RowError("member_card", "the phone and the member card belong to different members")
    return by_phone or by_card
