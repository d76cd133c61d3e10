"""The four ready-made audiences give the expected members on the fixed history."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from newretail.audiences import compiler, rules
from newretail.audiences.templates import TEMPLATES, TemplateParameters
from tests.audiences.data import AS_OF, BRAND, BRANDS, ago, setup

CASES = [
    ("presale_cart_no_purchase", {"start": ago(10), "end": AS_OF}, ["m1", "m8"]),
    ("popup_visitors_never_bought", {}, []),  # m4 bought (another brand)
    ("popup_visitors_never_bought", {"brand_id": BRAND}, ["m4"]),
    ("lapsed_buyers", {}, ["m3", "m5"]),
    ("interested_never_bought", {}, ["m1", "m8"]),
    ("interested_never_bought", {"brand_id": BRAND}, ["m1", "m4"]),
]


@pytest.mark.parametrize(("key", "parameters", "expected"), CASES)
def test_template_members(
    duck: Any, key: str, parameters: dict[str, Any], expected: list[str]
) -> None:
    org = str(uuid.uuid4())
    setup(duck, org)
    tree = TEMPLATES[key].build(TemplateParameters(as_of=AS_OF, **parameters))
    context = compiler.CompileContext(org, BRANDS, AS_OF)
    found = compiler.audience_members(duck, rules.parse_rules(tree), context)
    assert sorted(r["member_id"] for r in found.to_pyarrow().to_pylist()) == expected
