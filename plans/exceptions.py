"""Domain errors of sale planning; each carries the data a caller needs to explain it."""

from __future__ import annotations


class PlansError(Exception):
    """Base class: ``message`` is shown to operators as is."""

    def __init__(self, message: str, *, session_id: int | None = None):
        super().__init__(message)
        self.message = message
        self.session_id = session_id


class SessionNotLoadable(PlansError):
    """The session cannot be copied into Redis (its state, its window or its items forbid it)."""

    def __init__(self, message: str, *, session_id: int, state: str):
        super().__init__(message, session_id=session_id)
        self.state = state


class SessionLocked(PlansError):
    """A change to the window or the quantities of a session that is already in Redis."""

    def __init__(self, message: str, *, session_id: int, fields: tuple[str, ...]):
        super().__init__(message, session_id=session_id)
        self.fields = fields


class InvalidTransition(PlansError):
    """An operator action that does not apply to the session's current state."""

    def __init__(self, message: str, *, session_id: int, state: str, action: str):
        super().__init__(message, session_id=session_id)
        self.state = state
        self.action = action


class AdjustmentRefused(PlansError):
    """A stock adjustment that cannot be applied (item not loaded, session not in Redis, nothing left)."""

    def __init__(self, message: str, *, session_id: int, item_id: int, requested: int):
        super().__init__(message, session_id=session_id)
        self.item_id = item_id
        self.requested = requested
