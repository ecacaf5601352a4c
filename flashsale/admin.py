"""The back office's own rules for the admin pages of Django's and the libraries' models.

- Users: Django's user admin with a bulk action that deactivates shoppers and ends their sessions
  at once.
- Periodic tasks: django-celery-beat registers five models, the periodic tasks and four kinds of
  schedule. Operators never edit them (the schedule comes from the settings,
  ``CELERY_BEAT_SCHEDULE``), so the index and the sidebar list only "Periodic tasks", and only to
  superusers; the schedules stay reachable from a task's form and by their address.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django_celery_beat.models import ClockedSchedule, CrontabSchedule, IntervalSchedule, PeriodicTask, SolarSchedule

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


def _replace(model, *, listed_for_superusers: bool) -> None:
    """Register ``model`` again with its library's admin, listed in the index to superusers or to nobody."""
    base = type(admin.site.get_model_admin(model))

    def has_module_permission(self, request) -> bool:
        return listed_for_superusers and request.user.is_active and request.user.is_superuser

    admin.site.unregister(model)
    admin.site.register(model, type(base.__name__, (base,), {"has_module_permission": has_module_permission}))


_replace(PeriodicTask, listed_for_superusers=True)
for schedule in (ClockedSchedule, CrontabSchedule, IntervalSchedule, SolarSchedule):
    _replace(schedule, listed_for_superusers=False)
