from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from relaydesk.core.models import DEFAULT_SCOPES, TOKEN_SCOPES, APIToken, User


class Command(BaseCommand):
    help = "Manage API tokens: create EMAIL [--scope …] (prints the secret once), list, revoke PREFIX."

    def add_arguments(self, parser: Any) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="issue a token for a user; the secret is printed once")
        create.add_argument("email")
        create.add_argument("--scope", action="append", choices=TOKEN_SCOPES, help=f"repeatable (default: {' '.join(DEFAULT_SCOPES)})")
        create.add_argument("--name", default="cli")
        lst = sub.add_parser("list", help="list tokens (prefix, user, scopes)")
        lst.add_argument("--email")
        revoke = sub.add_parser("revoke", help="revoke a token by its prefix")
        revoke.add_argument("prefix")

    def handle(self, *args: Any, **opts: Any) -> None:
        action = opts["action"]
        if action == "create":
            user = User.objects.filter(email__iexact=opts["email"]).first()
            if user is None:
                raise CommandError(f"no user with e-mail {opts['email']}")
            try:
                _, secret = APIToken.issue(user, opts["scope"] or None, name=opts["name"])
            except ValidationError as exc:
                raise CommandError(" ".join(exc.messages)) from exc
            self.stdout.write(secret)
        elif action == "list":
            qs = APIToken.objects.select_related("user")
            if opts["email"]:
                qs = qs.filter(user__email__iexact=opts["email"])
            for t in qs:
                state = "revoked" if t.revoked_at else "active"
                self.stdout.write(f"{t.key_prefix}  {t.user.email}  {','.join(t.scopes)}  {state}  {t.name}")
        else:
            n = APIToken.objects.filter(key_prefix=opts["prefix"], revoked_at__isnull=True).update(revoked_at=timezone.now())
            if not n:
                raise CommandError(f"no active token with prefix {opts['prefix']}")
            self.stdout.write(f"revoked {n} token(s)")
