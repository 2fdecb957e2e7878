"""Forms of the portal and console. Each field's error names the field and says what to fix."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from relaydesk.core.models import Region, Team, User
from relaydesk.sla.models import PRIORITIES
from relaydesk.tickets.models import CATEGORIES, PLATFORMS, STATUSES

MAX_FILES = 10
MAX_AFFECTED = 200


def priority_choices() -> list[tuple[str, Any]]:
    return [
        ("P1", _("P1 urgent: service down or unusable for many users")),
        ("P2", _("P2 high: major feature broken, no workaround")),
        ("P3", _("P3 normal: problem with a workaround")),
        ("P4", _("P4 low: question or request")),
    ]


def category_choices() -> list[tuple[str, Any]]:
    names = {
        "stream_quality": _("Stream quality"),
        "connection": _("Connection / join failure"),
        "sdk_integration": _("SDK integration"),
        "billing": _("Billing"),
        "account": _("Account"),
        "other": _("Other"),
    }
    return [(code, names.get(code, label)) for code, label in CATEGORIES]


def category_names() -> dict[str, Any]:
    return dict(category_choices())


def channel_names() -> dict[str, Any]:
    return {
        "portal": _("Portal"),
        "email": _("E-mail"),
        "api": _("API"),
        "phone": _("Phone (logged)"),
        "proactive": _("Proactive"),
    }


def status_names() -> dict[str, Any]:
    return {
        "new": _("New"),
        "open": _("Open"),
        "pending_customer": _("Waiting for customer"),
        "on_hold": _("On hold"),
        "solved": _("Solved"),
        "closed": _("Closed"),
    }


def status_choices() -> list[tuple[str, Any]]:
    names = status_names()
    return [(code, names[code]) for code, _label in STATUSES]


class LocalDateTimeField(forms.DateTimeField):
    """A <input type=datetime-local> read in the viewer's time zone."""

    input_formats = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"]
    widget = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


class TicketForm(forms.Form):
    subject = forms.CharField(label=_("Subject"), max_length=250, strip=True)
    description = forms.CharField(label=_("What happened?"), widget=forms.Textarea(attrs={"rows": 6}), max_length=20000)
    priority = forms.ChoiceField(label=_("Priority"), initial="P3")
    category = forms.ChoiceField(label=_("Category"), initial="stream_quality")
    app_id = forms.CharField(label=_("App ID"), max_length=100, required=False)
    channel_name = forms.CharField(label=_("Channel / room"), max_length=200, required=False)
    sdk = forms.CharField(label=_("SDK"), max_length=60, required=False)
    sdk_version = forms.CharField(label=_("SDK version"), max_length=40, required=False)
    platform = forms.ChoiceField(label=_("Platform"), required=False)
    region = forms.ChoiceField(label=_("Region"), required=False)
    affected_user_ids = forms.CharField(
        label=_("Affected user IDs"),
        required=False,
        max_length=10000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Separate with commas, spaces or new lines."),
    )
    problem_start = LocalDateTimeField(label=_("Problem started (your time)"), required=False)
    problem_end = LocalDateTimeField(label=_("Problem ended (your time)"), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["priority"].choices = priority_choices()
        self.fields["category"].choices = category_choices()
        self.fields["platform"].choices = [(c, str(n)) for c, n in PLATFORMS]
        self.fields["region"].choices = [("", "—"), *((r.code, r.name) for r in Region.objects.order_by("name"))]

    def clean_affected_user_ids(self) -> list[str]:
        raw = self.cleaned_data.get("affected_user_ids", "")
        ids = [p for p in re.split(r"[\s,;]+", raw) if p]
        if len(ids) > MAX_AFFECTED:
            raise forms.ValidationError(_("At most %(n)d user IDs; attach a file for more.") % {"n": MAX_AFFECTED})
        too_long = [i for i in ids if len(i) > 100]
        if too_long:
            raise forms.ValidationError(_("A user ID may have at most 100 characters."))
        return list(dict.fromkeys(ids))

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        start: datetime | None = data.get("problem_start")
        end: datetime | None = data.get("problem_end")
        if start and end and end < start:
            self.add_error("problem_end", _("The problem cannot end before it started."))
        if start and start > timezone.now() + timedelta(minutes=5):
            self.add_error("problem_start", _("The start of the problem cannot be in the future."))
        return data

    def context(self) -> dict[str, Any]:
        d = self.cleaned_data
        region = Region.objects.filter(code=d["region"]).first() if d.get("region") else None
        return {
            "app_id": d["app_id"],
            "channel_name": d["channel_name"],
            "sdk": d["sdk"],
            "sdk_version": d["sdk_version"],
            "platform": d["platform"],
            "region": region,
            "affected_user_ids": d["affected_user_ids"],
            "problem_start": d.get("problem_start"),
            "problem_end": d.get("problem_end"),
        }


class ReplyForm(forms.Form):
    body = forms.CharField(label=_("Your reply"), widget=forms.Textarea(attrs={"rows": 5}), max_length=20000)


class AgentReplyForm(forms.Form):
    body = forms.CharField(label=_("Message"), widget=forms.Textarea(attrs={"rows": 6}), max_length=20000)
    kind = forms.ChoiceField(
        label=_("Kind"),
        choices=[("public", _("Public reply")), ("internal", _("Internal note"))],
        initial="public",
        widget=forms.RadioSelect,
    )
    status = forms.ChoiceField(label=_("Then set status"), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["status"].choices = [("", _("(keep)")), *status_choices()]


class TicketUpdateForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"))
    priority = forms.ChoiceField(label=_("Priority"))
    assignee = forms.ChoiceField(label=_("Assignee"), required=False)
    team = forms.ChoiceField(label=_("Team"), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["status"].choices = status_choices()
        self.fields["priority"].choices = [(c, c) for c, _n in PRIORITIES]
        staff = User.objects.filter(kind=User.KIND_STAFF, is_active=True).order_by("first_name", "email")
        self.fields["assignee"].choices = [("", _("(unassigned)")), *((str(u.pk), str(u)) for u in staff)]
        self.fields["team"].choices = [("", _("(no team)")), *((str(t.pk), t.name) for t in Team.objects.all())]

    def changes(self) -> dict[str, Any]:
        d = self.cleaned_data
        assignee = User.objects.filter(pk=d["assignee"]).first() if d.get("assignee") else None
        team = Team.objects.filter(pk=d["team"]).first() if d.get("team") else None
        return {"status": d["status"], "priority": d["priority"], "assignee": assignee, "team": team}


class TokenForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100, help_text=_("Where the token is used, e.g. 'CI alerts'."))
    write = forms.BooleanField(label=_("May also create and change tickets"), required=False, initial=True)


class EscalateForm(forms.Form):
    """Escalate a ticket: raise its priority, move it to another team, hand it to a team lead,
    page the on-call. The reason is required and goes into the ticket history."""

    reason = forms.CharField(label=_("Why escalate"), max_length=300, widget=forms.TextInput)
    priority = forms.ChoiceField(label=_("Raise priority to"), required=False)
    team = forms.ChoiceField(label=_("Move to team"), required=False)
    to_lead = forms.BooleanField(label=_("Assign to the team's lead"), required=False)
    page = forms.BooleanField(label=_("Page the on-call now"), required=False)
    prefix = "esc"  # the ticket page also has the update form's priority and team

    def __init__(self, *args: Any, current: str = "P4", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.current = current
        higher = [c for c, _n in PRIORITIES if c < current]
        self.fields["priority"].choices = [("", _("(keep %(priority)s)") % {"priority": current}), *((c, c) for c in higher)]
        self.fields["team"].choices = [("", _("(keep)")), *((str(t.pk), t.name) for t in Team.objects.order_by("name"))]

    def clean(self) -> dict[str, Any]:
        d = super().clean() or {}
        if not (d.get("priority") or d.get("team") or d.get("to_lead") or d.get("page")):
            raise forms.ValidationError(_("Choose at least one way to escalate: a higher priority, another team, the lead or a page."))
        return d

    def target_team(self) -> Team | None:
        value = self.cleaned_data.get("team")
        return Team.objects.select_related("lead").filter(pk=value).first() if value else None
