"""A coupon fact's properties: the Python form and the JSON text SQL finishes agree."""

import json
import uuid

from newretail.marketing import coupon_facts


def test_properties_put_the_coupon_first_then_the_names_then_order_and_reason() -> None:
    said = coupon_facts.properties(
        "c1", {"offer_id": "o1", "offer": "Spring"}, order_ref="A-7", reason="member_limit"
    )
    assert list(said.items()) == [
        ("coupon_id", "c1"),
        ("offer_id", "o1"),
        ("offer", "Spring"),
        ("order_ref", "A-7"),
        ("reason", "member_limit"),
    ]


def test_the_json_text_around_the_id_is_the_properties_as_json() -> None:
    coupon_id = str(uuid.UUID(int=7))
    for names in (
        {},
        {"offer_id": "o1"},
        {"offer_id": "o1", "offer": 'Spring "coupon id" é', "stage": "coupon id"},
    ):
        before, after = coupon_facts.properties_json_around_id(names)
        text = before + coupon_id + after
        assert text == json.dumps(coupon_facts.properties(coupon_id, names), ensure_ascii=False)
        assert json.loads(text) == {"coupon_id": coupon_id, **names}
