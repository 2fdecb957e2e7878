"""Accounts (organisations, users, staff), regions, services, teams and API tokens."""

from __future__ import annotations

import hashlib
import secrets
import zoneinfo

from django.contrib.auth.models import AbstractUser, UserManager
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.timezone import now as _now

LANGUAGES = [("en", "English"), ("zh-Hans", "简体中文")]

ROLE_AGENT = "agent"
ROLE_LEAD = "lead"
ROLE_ADMIN = "admin"
STAFF_ROLES = (ROLE_AGENT, ROLE_LEAD, ROLE_ADMIN)
ROLE_GROUPS = {ROLE_AGENT: "Agents", ROLE_LEAD: "Leads", ROLE_ADMIN: "Admins"}


def validate_timezone(value: str) -> None:
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise ValidationError(
            f"unknown time zone {value!r}: use an IANA name such as 'Asia/Singapore'"
        ) from exc


class Region(models.Model):
    """A network/support region; its country (and subdivision) gives public holidays."""

    code = models.SlugField(max_length=32, unique=True)
    name = models.CharField(max_length=100)
    country = models.CharField(max_length=2, help_text="ISO 3166-1 alpha-2, for holidays")
    subdivision = models.CharField(max_length=10, blank=True, default="")
    timezone = models.CharField(max_length=64, validators=[validate_timezone])
    calendar = models.ForeignKey(
        "sla.BusinessCalendar",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="regions",
        help_text="Business hours used for clocks that follow the customer's region",
    )

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class Service(models.Model):
    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=100)
    description = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class Team(models.Model):
    name = models.CharField(max_length=100, unique=True)
    region = models.ForeignKey(Region, null=True, blank=True, on_delete=models.SET_NULL)
    timezone = models.CharField(max_length=64, default="UTC", validators=[validate_timezone])
    languages = models.JSONField(default=list, blank=True)
    email = models.EmailField(blank=True, default="")
    lead = models.ForeignKey(
        "core.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="leads_teams"
    )
    serves_all = models.BooleanField(
        default=False, help_text="Members may see every organisation's tickets"
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Organisation(models.Model):
    """A customer account."""

    name = models.CharField(max_length=200, unique=True)
    plan = models.ForeignKey("sla.Plan", on_delete=models.PROTECT, related_name="organisations")
    home_region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="organisations")
    language = models.CharField(max_length=10, choices=LANGUAGES, default="en")
    timezone = models.CharField(max_length=64, default="UTC", validators=[validate_timezone])
    is_key_account = models.BooleanField(default=False)
    account_manager = models.ForeignKey(
        "core.User",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="managed_organisations",
        limit_choices_to={"kind": "staff"},
    )
    support_teams = models.ManyToManyField(Team, blank=True, related_name="organisations")
    email_domains = models.JSONField(
        default=list, blank=True, help_text="Mail from these domains may open tickets"
    )
    created_at = models.DateTimeField(default=_now)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class RelayUserManager(UserManager["User"]):
    def get_by_natural_key(self, username: str | None) -> User:
        return self.get(email__iexact=username)


class User(AbstractUser):
    """Anyone who logs in: a customer (belongs to one organisation) or staff."""

    KIND_CUSTOMER = "customer"
    KIND_STAFF = "staff"
    KIND_SYSTEM = "system"
    KINDS = [(KIND_CUSTOMER, "Customer"), (KIND_STAFF, "Staff"), (KIND_SYSTEM, "System")]

    email = models.EmailField(unique=True)
    kind = models.CharField(max_length=10, choices=KINDS, default=KIND_CUSTOMER)
    organisation = models.ForeignKey(
        Organisation, null=True, blank=True, on_delete=models.PROTECT, related_name="users"
    )
    language = models.CharField(max_length=10, choices=LANGUAGES, default="en")
    timezone = models.CharField(max_length=64, default="UTC", validators=[validate_timezone])
    # Staff profile
    team = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="members"
    )
    languages = models.JSONField(default=list, blank=True)
    skills = models.JSONField(default=list, blank=True)

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS = ["username"]

    objects = RelayUserManager()

    class Meta:
        ordering = ["email"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(kind="customer") | models.Q(organisation__isnull=False),
                name="customer_has_organisation",
            )
        ]

    def __str__(self) -> str:
        return self.get_full_name() or self.email

    # Roles come from Django groups; superusers are admins.
    def _groups(self) -> set[str]:
        cached: set[str] | None = getattr(self, "_group_names", None)
        if cached is None:
            cached = set(self.groups.values_list("name", flat=True)) if self.pk else set()
            self._group_names = cached
        return cached

    @property
    def is_customer(self) -> bool:
        return self.kind == self.KIND_CUSTOMER

    @property
    def is_admin_role(self) -> bool:
        return self.kind == self.KIND_STAFF and (
            self.is_superuser or ROLE_GROUPS[ROLE_ADMIN] in self._groups()
        )

    @property
    def is_lead_role(self) -> bool:
        return self.kind == self.KIND_STAFF and (
            self.is_admin_role or ROLE_GROUPS[ROLE_LEAD] in self._groups()
        )

    @property
    def is_agent_role(self) -> bool:
        return self.kind == self.KIND_STAFF

    @property
    def role(self) -> str:
        if self.is_customer:
            return "customer"
        if self.kind == self.KIND_SYSTEM:
            return "system"
        if self.is_admin_role:
            return ROLE_ADMIN
        if self.is_lead_role:
            return ROLE_LEAD
        return ROLE_AGENT


TOKEN_SCOPES = [
    "tickets:read",
    "tickets:write",
    "admin",
    "telemetry:write",
    "incidents:write",
]
DEFAULT_SCOPES = ["tickets:read", "tickets:write"]


class APITokenQuerySet(models.QuerySet["APIToken"]):
    def active(self) -> APITokenQuerySet:
        now = timezone.now()
        return self.filter(revoked_at__isnull=True).filter(
            models.Q(expires_at__isnull=True) | models.Q(expires_at__gt=now)
        )


class APIToken(models.Model):
    """A per-user API token. Only a SHA-256 digest is stored; the secret is shown once."""

    PREFIX = "rdk_"

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, default="", blank=True)
    key_prefix = models.CharField(max_length=12, db_index=True)
    digest = models.CharField(max_length=64, unique=True)
    scopes = models.JSONField(default=list)
    created_at = models.DateTimeField(default=_now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = APITokenQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.key_prefix}… ({self.user})"

    @staticmethod
    def hash(secret: str) -> str:
        # Tokens are 256-bit random values, so a fast hash is enough (no dictionary to guess).
        return hashlib.sha256(secret.encode()).hexdigest()

    @classmethod
    def issue(
        cls, user: User, scopes: list[str] | None = None, name: str = ""
    ) -> tuple[APIToken, str]:
        scopes = list(scopes or DEFAULT_SCOPES)
        unknown = sorted(set(scopes) - set(TOKEN_SCOPES))
        if unknown:
            raise ValidationError(
                f"unknown scope(s) {', '.join(unknown)}; choose from {', '.join(TOKEN_SCOPES)}"
            )
        if "admin" in scopes and not user.is_admin_role:
            raise ValidationError("only admins may hold the 'admin' scope")
        secret = cls.PREFIX + secrets.token_urlsafe(32)
        token = cls.objects.create(
            user=user,
            name=name,
            key_prefix=secret[:12],
            digest=cls.hash(secret),
            scopes=scopes,
        )
        return token, secret


class LoginAttempt(models.Model):
    """Failed logins, counted per key (client address or account) to rate-limit guessing."""

    key = models.CharField(max_length=200, db_index=True)
    at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-at"]
