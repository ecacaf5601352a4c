"""Admin pages of records nobody edits (mails sent, stock adjustments, compensations): view only."""

from __future__ import annotations

from typing import Any

from django.contrib import admin


class ViewOnlyAdmin(admin.ModelAdmin):
    """A model admin that lists and shows its rows and never adds, changes or deletes one."""

    def has_add_permission(self, request: Any) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: Any, obj: Any = None) -> bool:
        return False
