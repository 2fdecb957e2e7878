"""Typed request and response bodies of the public API."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from ninja import Schema
from pydantic import ConfigDict, Field, field_validator

Priority = Literal["P1", "P2", "P3", "P4"]
Status = Literal["new", "open", "pending_customer", "on_hold", "solved", "closed"]
Category = Literal["stream_quality", "connection", "sdk_integration", "billing", "account", "other"]
Channel = Literal["portal", "email", "api", "phone", "proactive"]
Platform = Literal[
    "",
    "android",
    "ios",
    "web",
    "windows",
    "macos",
    "linux",
    "flutter",
    "react_native",
    "unity",
    "electron",
    "other",
]
TagName = str


class Strict(Schema):
    model_config = ConfigDict(extra="forbid")


class ContextIn(Strict):
    app_id: str = Field("", max_length=100)
    channel_name: str = Field("", max_length=200)
    sdk: str = Field("", max_length=60)
    sdk_version: str = Field("", max_length=40)
    platform: Platform = ""
    region: str | None = Field(None, max_length=32, description="region code, e.g. 'sg'")
    affected_user_ids: list[str] = Field(default_factory=list, max_length=1000)
    problem_start: datetime | None = None
    problem_end: datetime | None = None

    @field_validator("affected_user_ids")
    @classmethod
    def _short_ids(cls, v: list[str]) -> list[str]:
        for item in v:
            if len(item) > 128:
                raise ValueError("each affected user ID must be at most 128 characters")
        return v

    @field_validator("problem_start", "problem_end")
    @classmethod
    def _aware(cls, v: datetime | None) -> datetime | None:
        if v is not None and v.tzinfo is None:
            raise ValueError("give a time zone offset, e.g. 2026-11-25T19:02:00+08:00")
        return v


class TicketIn(Strict):
    subject: str = Field(..., min_length=1, max_length=250)
    description: str = Field("", max_length=100_000)
    priority: Priority = "P3"
    category: Category = "other"
    channel: Channel | None = None
    tags: list[TagName] = Field(default_factory=list, max_length=30)
    context: ContextIn | None = None
    requester_id: int | None = Field(None, description="staff only: file on behalf of a customer")
    requester_email: str | None = Field(None, max_length=254)
    assignee_id: int | None = None
    team_id: int | None = None

    @field_validator("tags")
    @classmethod
    def _tags(cls, v: list[str]) -> list[str]:
        return _check_tags(v)

    @field_validator("subject")
    @classmethod
    def _subject(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("subject must not be blank")
        return v.strip()


def _check_tags(v: list[str]) -> list[str]:
    out = []
    for tag in v:
        t = tag.strip().lower()
        if not t or len(t) > 50 or any(c.isspace() or c in ",/\\" for c in t):
            raise ValueError(f"invalid tag {tag!r}: 1–50 characters, no spaces, commas or slashes")
        out.append(t)
    return out


class TicketPatch(Strict):
    status: Status | None = None
    priority: Priority | None = None
    category: Category | None = None
    subject: str | None = Field(None, min_length=1, max_length=250)
    assignee_id: int | None = None
    team_id: int | None = None
    tags: list[TagName] | None = Field(None, max_length=30)
    context: ContextIn | None = None

    @field_validator("tags")
    @classmethod
    def _tags(cls, v: list[str] | None) -> list[str] | None:
        return None if v is None else _check_tags(v)


class Ref(Schema):
    id: int
    name: str


class UserRef(Schema):
    id: int
    email: str
    name: str


class ClockOut(Schema):
    state: str
    target_minutes: float | None
    due_at: datetime | None
    warned: bool
    breached: bool
    met_at: datetime | None
    cycle: int
    spent_business_seconds: int
    remaining_business_seconds: int | None


class SLAOut(Schema):
    state: str
    due_at: datetime | None
    policy: str | None
    rule: str | None
    rule_id: int | None
    calendar: str
    first_response: ClockOut
    next_response: ClockOut
    resolution: ClockOut


class ContextOut(Schema):
    app_id: str
    channel_name: str
    sdk: str
    sdk_version: str
    platform: str
    region: str | None
    affected_user_ids: list[str]
    problem_start: datetime | None
    problem_end: datetime | None


class TicketOut(Schema):
    id: int
    number: int
    subject: str
    status: str
    priority: str
    category: str
    channel: str
    organisation: Ref
    requester: UserRef
    assignee: UserRef | None
    team: Ref | None
    tags: list[str]
    context: ContextOut
    created_at: datetime
    updated_at: datetime
    solved_at: datetime | None
    closed_at: datetime | None
    reopen_count: int
    first_response_due_at: datetime | None
    next_response_due_at: datetime | None
    resolution_due_at: datetime | None
    sla_state: str
    sla_due_at: datetime | None


class TicketDetailOut(TicketOut):
    description: str
    sla: SLAOut


class TicketListOut(Schema):
    count: int = Field(description="tickets matching the filters, counted up to count_limit")
    count_exact: bool = Field(description="false when more than count_limit tickets match")
    count_limit: int | None = Field(description="null when exact_count=true was asked for")
    items: list[TicketOut]
    next: str | None = Field(description="cursor for the next page, or null on the last one")


class MessageIn(Strict):
    body: str = Field(..., min_length=1, max_length=100_000)
    public: bool = True
    status: Status | None = Field(None, description="optionally change status with the reply")


class AttachmentOut(Schema):
    id: int
    filename: str
    content_type: str
    size: int
    sha256: str
    message_id: int | None
    created_at: datetime
    url: str


class MessageOut(Schema):
    id: int
    author: UserRef | None
    author_kind: str
    public: bool
    is_auto: bool
    body: str
    channel: str
    created_at: datetime
    attachments: list[AttachmentOut]


class HistoryOut(Schema):
    at: datetime
    kind: Literal["change", "clock"]
    field: str
    old: str
    new: str
    actor: str
    via: str


class ErrorOut(Schema):
    detail: str


class OrganisationOut(Schema):
    id: int
    name: str
    plan: str
    home_region: str
    language: str
    timezone: str
    is_key_account: bool
    account_manager: UserRef | None
    email_domains: list[str]


class OrganisationIn(Strict):
    name: str = Field(..., min_length=1, max_length=200)
    plan: str
    home_region: str
    language: Literal["en", "zh-Hans"] = "en"
    timezone: str = "UTC"
    is_key_account: bool = False
    account_manager_id: int | None = None
    email_domains: list[str] = Field(default_factory=list, max_length=20)


class OrganisationPatch(Strict):
    name: str | None = Field(None, min_length=1, max_length=200)
    plan: str | None = None
    home_region: str | None = None
    language: Literal["en", "zh-Hans"] | None = None
    timezone: str | None = None
    is_key_account: bool | None = None
    account_manager_id: int | None = None
    email_domains: list[str] | None = Field(None, max_length=20)


class UserOut(Schema):
    id: int
    email: str
    name: str
    role: str
    organisation: Ref | None
    language: str
    timezone: str
    team: Ref | None
    languages: list[str]
    skills: list[str]
    is_active: bool


class UserIn(Strict):
    email: str = Field(..., max_length=254)
    name: str = Field("", max_length=150)
    role: Literal["customer", "agent", "lead", "admin"]
    organisation_id: int | None = None
    language: Literal["en", "zh-Hans"] = "en"
    timezone: str = "UTC"
    team_id: int | None = None
    languages: list[str] = Field(default_factory=list, max_length=20)
    skills: list[str] = Field(default_factory=list, max_length=100)
    password: str | None = Field(None, min_length=10, max_length=200)


class RegionOut(Schema):
    id: int
    code: str
    name: str
    country: str
    subdivision: str
    timezone: str
    calendar: str | None


class RegionIn(Strict):
    code: str = Field(..., min_length=1, max_length=32, pattern=r"^[a-z0-9-]+$")
    name: str = Field(..., min_length=1, max_length=100)
    country: str = Field(..., min_length=2, max_length=2)
    subdivision: str = Field("", max_length=10)
    timezone: str
    calendar_id: int | None = None


class CalendarOut(Schema):
    id: int
    name: str
    spec: dict[str, object]
    description: str


class CalendarIn(Strict):
    name: str = Field(..., min_length=1, max_length=100)
    spec: dict[str, object]
    description: str = Field("", max_length=2000)


class RuleOut(Schema):
    id: int
    order: int
    name: str
    plan: str | None
    priority: str | None
    category: str | None
    channel: str | None
    first_response_minutes: int | None
    next_response_minutes: int | None
    resolution_minutes: int | None
    calendar_mode: str
    calendar: str | None
    pause_on_hold: bool
    warn_pct: int


class PolicyOut(Schema):
    id: int
    name: str
    description: str
    is_active: bool
    rules: list[RuleOut]


class RuleIn(Strict):
    order: int = Field(..., ge=0, le=100_000)
    name: str = Field("", max_length=120)
    plan: str | None = None
    priority: Priority | None = None
    category: Category | None = None
    channel: Channel | None = None
    first_response_minutes: int | None = Field(None, ge=1, le=525_600)
    next_response_minutes: int | None = Field(None, ge=1, le=525_600)
    resolution_minutes: int | None = Field(None, ge=1, le=5_256_000)
    calendar_mode: Literal["24x7", "customer_region", "calendar"] = "24x7"
    calendar_id: int | None = None
    pause_on_hold: bool = False
    warn_pct: int = Field(75, ge=1, le=99)
