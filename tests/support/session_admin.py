"""The sale session's admin change form, filled in as an operator's browser posts it."""

from __future__ import annotations


def session_form_data(session, rows: list[dict]) -> dict:
    """The sale session's change form as the admin posts it, with ``rows`` as its items inline
    (a row with an ``id`` is an existing item; ``None`` values are sent empty)."""
    data = {
        "name": session.name,
        "starts_at_0": session.starts_at.strftime("%Y-%m-%d"),
        "starts_at_1": session.starts_at.strftime("%H:%M:%S"),
        "ends_at_0": session.ends_at.strftime("%Y-%m-%d"),
        "ends_at_1": session.ends_at.strftime("%H:%M:%S"),
        "notes": "",
        "items-TOTAL_FORMS": str(len(rows)),
        "items-INITIAL_FORMS": str(sum(1 for row in rows if row.get("id"))),
        "items-MIN_NUM_FORMS": "0",
        "items-MAX_NUM_FORMS": "1000",
    }
    for index, row in enumerate(rows):
        for key, value in row.items():
            data[f"items-{index}-{key}"] = "" if value is None else str(value)
        data[f"items-{index}-session"] = str(session.pk)
    return data
