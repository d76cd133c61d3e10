"""How reach names its codes to people, in one language: an event type a rule triggers on, and
the rule's list of them. The console's trigger page and the `newretail reach` commands both
read them here; `--json` and the API keep the codes."""

from __future__ import annotations

from collections.abc import Iterable

from newretail.core.i18n import DEFAULT_LOCALE, Translate, catalogue

# One label per event type across the console (the member timeline, audiences and reach): the
# event catalogue the timeline keeps, which names every built-in type.
EVENT_TYPE_KEY = "timelines.event.{}"


def event_type_label(t: Translate, event_type: str) -> str:
    """An event type's label (`counter_approach` → "Counter approach" / "靠近专柜"); a custom
    type the organisation defined has no label, so its own name is shown."""
    key = EVENT_TYPE_KEY.format(event_type)
    return t(key) if key in catalogue(DEFAULT_LOCALE) else event_type


def event_types_label(t: Translate, event_types: Iterable[str]) -> str:
    """A rule's event types as one phrase: their labels, or "any event" when it names none."""
    return ", ".join(event_type_label(t, e) for e in event_types) or t("reach.triggers.any_type")
