from __future__ import annotations

import getpass
from typing import Any

from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.core.validators import validate_email
from django.db import transaction

from relaydesk.core.models import ROLE_ADMIN, ROLE_GROUPS, User


class Command(BaseCommand):
    help = "Create an admin user (interactive, or non-interactive with --email and --password)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--email")
        parser.add_argument("--password")
        parser.add_argument("--name", default="")

    def handle(self, *args: Any, **opts: Any) -> None:
        email = opts["email"] or input("E-mail: ").strip()
        try:
            validate_email(email)
        except ValidationError as exc:
            raise CommandError(f"--email: {email!r} is not an e-mail address") from exc
        password = opts["password"]
        if password is None:
            password = getpass.getpass("Password: ")
            if password != getpass.getpass("Password (again): "):
                raise CommandError("passwords do not match")
        try:
            validate_password(password)
        except ValidationError as exc:
            raise CommandError("--password: " + " ".join(exc.messages)) from exc
        if User.objects.filter(email__iexact=email).exists():
            raise CommandError(f"a user with e-mail {email} exists already")
        first, _, last = opts["name"].partition(" ")
        with transaction.atomic():
            user = User.objects.create_superuser(username=email.lower(), email=email.lower(), password=password, kind=User.KIND_STAFF, first_name=first, last_name=last)
            user.groups.add(Group.objects.get_or_create(name=ROLE_GROUPS[ROLE_ADMIN])[0])
        self.stdout.write(f"admin {user.email} created")
