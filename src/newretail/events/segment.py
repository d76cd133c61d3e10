"""Segment messages (track, identify, alias, page, screen, group) as native events.

Following the public Segment HTTP API spec: `userId` is the account id, `anonymousId` the
anonymous id, `context.device.id` a device id, and contact traits (e-mail, phone, member
card, WeChat union id) become identifiers — they are hashed for matching and never stored
with the event. `timestamp` is corrected by the device's clock skew (`sentAt` against our
receive time). Track names map to event types by the source's mapping, else their snake_case.
"""

from __future__ import annotations

import re
from typing import Any

MESSAGE_TYPES = {
    "track": None,
    "identify": "identify",
    "alias": "alias",
    "page": "page_view",
    "screen": "screen_view",
    "group": "group",
}
# Trait names that identify a person: they become identifiers, not stored properties.
CONTACT_TRAITS = {
    "email": "email",
    "phone": "phone",
    "member_card": "member_card",
    "memberCard": "member_card",
    "wechat_unionid": "wechat_unionid",
    "unionid": "wechat_unionid",
    "payment_id": "payment_id",
}
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])")
_NOT_WORD = re.compile(r"[^a-z0-9]+")
_AMOUNT_KEYS = ("total", "revenue", "amount", "value")


def snake_case(name: str) -> str:
    """`Product Viewed` → `product_viewed`, `addToCart` → `add_to_cart` (at most 64 chars)."""
    words = _NOT_WORD.sub("_", _CAMEL.sub("_", name.strip()).lower()).strip("_")
    if not words:
        return "unnamed_event"
    if not words[0].isalpha():
        words = "event_" + words
    return words[:64].rstrip("_")


def _string(value: Any) -> str | None:
    if isinstance(value, str) and value.strip():
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return None


def to_native(
    message: Any, at: str, mapping: dict[str, str], sent_at: Any = None, received_at: str = ""
) -> dict[str, Any] | tuple[str, str]:
    """The native event for one Segment message, or (field, reason)."""
    if not isinstance(message, dict):
        return at, "must be an object"
    kind = message.get("type")
    if kind not in MESSAGE_TYPES:
        return f"{at}.type", f"must be one of {', '.join(MESSAGE_TYPES)}"
    message_id = message.get("messageId")
    if not isinstance(message_id, str) or not 1 <= len(message_id) <= 100:
        return f"{at}.messageId", "is required: a string of 1-100 characters"
    context = message.get("context") or {}
    if not isinstance(context, dict):
        return f"{at}.context", "must be an object"
    properties = message.get("properties") or {}
    if not isinstance(properties, dict):
        return f"{at}.properties", "must be an object"
    traits = message.get("traits") or context.get("traits") or {}
    if not isinstance(traits, dict):
        return f"{at}.traits", "must be an object"

    identifiers: dict[str, str] = {}
    if (user_id := _string(message.get("userId"))) is not None:
        identifiers["account_id"] = user_id
    if (anonymous_id := _string(message.get("anonymousId"))) is not None:
        identifiers["anonymous_id"] = anonymous_id
    device = context.get("device")
    if isinstance(device, dict) and (device_id := _string(device.get("id"))) is not None:
        identifiers["device_id"] = device_id
    for trait, kind_of_id in CONTACT_TRAITS.items():
        if (value := _string(traits.get(trait))) is not None:
            identifiers[kind_of_id] = value
    if kind == "alias":
        previous = _string(message.get("previousId"))
        if previous is None:
            return f"{at}.previousId", "is required for alias"
        if user_id is None:
            return f"{at}.userId", "is required for alias"
        identifiers.setdefault("anonymous_id", previous)
    elif not identifiers:
        return f"{at}.userId", "userId or anonymousId is required"

    if kind == "track":
        name = message.get("event")
        if not isinstance(name, str) or not name.strip():
            return f"{at}.event", "is required for track"
        event_type = mapping.get(name) or snake_case(name)
        stored = dict(properties)
        stored.setdefault("event_name", name)
    else:
        event_type = MESSAGE_TYPES[kind] or kind
        stored = dict(properties)
        for key in ("name", "category"):
            if _string(message.get(key)) is not None:
                stored[key] = message[key]
        if kind == "group" and (group_id := _string(message.get("groupId"))) is not None:
            stored["group_id"] = group_id
    kept_traits = {k: v for k, v in traits.items() if k not in CONTACT_TRAITS}
    if kept_traits:
        stored["traits"] = kept_traits
    kept_context = {k: v for k, v in context.items() if k not in ("traits", "ip")}
    if kept_context:
        stored["context"] = kept_context

    native: dict[str, Any] = {
        "message_id": message_id,
        "type": event_type,
        "ts": message.get("timestamp")
        or message.get("originalTimestamp")
        or message.get("sentAt")
        or sent_at
        or received_at,
        "identifiers": identifiers,
        "properties": stored,
    }
    message_sent_at = message.get("sentAt") or sent_at
    if message_sent_at is not None:
        native["sent_at"] = message_sent_at
    for key in ("store_id", "brand_id", "channel"):
        value = properties.get(key) or context.get(key)
        if value is not None:
            native[key] = value
    if event_type == "purchase":
        for key in _AMOUNT_KEYS:
            if properties.get(key) is not None:
                native["amount"] = properties[key]
                break
    return native
