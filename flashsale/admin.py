"""Django's user admin with a bulk action that deactivates shoppers and ends their sessions at once."""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin

from flashsale.accounts import deactivate_users

User = get_user_model()


class ShopperAdmin(UserAdmin):
    actions = ["deactivate_selected"]

    @admin.action(description="Deactivate selected users and end their sessions", permissions=["change"])
    def deactivate_selected(self, request, queryset):
        # One save per user (deactivate_users), never queryset.update(): the save ends the sessions.
        changed = deactivate_users(queryset)
        already = queryset.count() - changed
        self.message_user(
            request,
            f"{changed} user(s) deactivated; their sessions and reserve tickets have ended."
            + (f" {already} already inactive." if already else ""),
            messages.SUCCESS,
        )


admin.site.unregister(User)
admin.site.register(User, ShopperAdmin)
