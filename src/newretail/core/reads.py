"""The API shape of a stored row: a read schema filled from the row's own attributes."""

from __future__ import annotations

from typing import TypeVar

from pydantic import BaseModel

ReadT = TypeVar("ReadT", bound=BaseModel)


def read_of(schema: type[ReadT], row: object, **given: object) -> ReadT:
    """`schema` with each field read from the row's attribute of the same name, except the
    fields in `given` (what the row does not hold, or holds in another form), validated."""
    unknown = given.keys() - schema.model_fields.keys()
    if unknown:
        raise TypeError(f"{schema.__name__} has no field {sorted(unknown)[0]!r}")
    values = {
        name: given[name] if name in given else getattr(row, name) for name in schema.model_fields
    }
    return schema.model_validate(values)
