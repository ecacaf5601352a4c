"""A sale session's states, shared by the database (``SaleSession.state``) and its Redis copy.

The loaded session's hash in Redis carries the same strings in its ``state`` field, and the Lua
scripts compare with them; this module needs no app registry, so the hot path can import it.
"""

from __future__ import annotations

from django.db.models import TextChoices


class SessionState(TextChoices):
    """draft → scheduled → loaded → live → ended; cancelled from any state before the end."""

    DRAFT = "draft", "Draft"
    SCHEDULED = "scheduled", "Scheduled"
    LOADED = "loaded", "Loaded into Redis"
    LIVE = "live", "Live"
    ENDED = "ended", "Ended"
    CANCELLED = "cancelled", "Cancelled"
