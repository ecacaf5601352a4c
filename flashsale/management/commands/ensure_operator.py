"""Create (or reset) the demo operator account and print its login."""

import os
import secrets

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Create the operator account used by the demo and print its login."

    def add_arguments(self, parser):
        parser.add_argument("--username", default=os.environ.get("FLASHSALE_OPERATOR_USERNAME", "operator"))
        parser.add_argument("--password", default=os.environ.get("FLASHSALE_OPERATOR_PASSWORD", ""))

    def handle(self, *args, username, password, **options):
        User = get_user_model()
        password = password or secrets.token_urlsafe(12)
        user, created = User.objects.get_or_create(username=username, defaults={"is_staff": True})
        user.is_staff = True
        user.is_superuser = True
        user.set_password(password)
        user.save()
        group = Group.objects.filter(name="operators").first()
        if group is not None:
            user.groups.add(group)
        verb = "Created" if created else "Reset"
        self.stdout.write(self.style.SUCCESS(f"{verb} operator login: {username} / {password}"))
