from dataclasses import dataclass

import pytest
from pydantic import BaseModel

from newretail.core.reads import read_of


class Shape(BaseModel):
    name: str
    count: int
    label: str


@dataclass
class Row:
    name: str
    count: str
    label: str = "stored"
    other: str = "not in the shape"


def test_fields_come_from_the_row_unless_given() -> None:
    shape = read_of(Shape, Row("a", "3"), label="given")
    assert shape == Shape(name="a", count=3, label="given")


def test_a_given_field_the_schema_lacks_is_refused() -> None:
    with pytest.raises(TypeError, match="Shape has no field 'lable'"):
        read_of(Shape, Row("a", "3"), lable="given")


def test_a_field_the_row_lacks_is_an_error() -> None:
    with pytest.raises(AttributeError):
        read_of(Shape, object())
