"""Running an admin action on sale sessions as an operator's browser would post it."""

from __future__ import annotations

from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.urls import reverse

SESSION_CHANGELIST = "admin:plans_salesession_changelist"


def run_action(client, action: str, sessions, *, confirm: bool):
    """Post ``action`` for ``sessions`` on the sale sessions' changelist; ``confirm`` answers its
    confirmation page (and follows the redirect back)."""
    data = {"action": action, ACTION_CHECKBOX_NAME: [session.pk for session in sessions]}
    if confirm:
        data["post"] = "yes"
    return client.post(reverse(SESSION_CHANGELIST), data, follow=confirm)
