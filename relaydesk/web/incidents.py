"""The incident console (staff): the incident list, one incident's timeline, posting an
update (status move, public text in English and Chinese, internal note), the affected
customers with the delivery state of their notices, linked tickets, and a manual incident.

Every write goes through ``relaydesk.incidents.services`` (the only writer); a refused change
is shown on the form, named per field, and writes nothing."""

from __future__ import annotations

from datetime import UTC
from typing import Any

from django import forms
from django.contrib import messages
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from relaydesk.api.auth import visible_tickets
from relaydesk.core.models import Region, Service, User
from relaydesk.incidents import lifecycle as lc
from relaydesk.incidents import services as incident_services
from relaydesk.incidents.models import (
    AffectedOrganisation,
    Incident,
    IncidentTicket,
    IncidentUpdate,
    Notice,
)
from relaydesk.incidents.text import STATUS_WORDS

from .common import page, query_string
from .forms import LocalDateTimeField

STAFF = User.KIND_STAFF
LIST_LIMIT = 100
AFFECTED_LIMIT = 200
# Notice outbox states as the console shows them: waiting rows are "queued".
QUEUED = (Notice.PENDING, Notice.SENDING)
# The public text of a resolve taken from the detector's proposal (both languages, as the
# notices carry them; an agent who wants other words edits the form instead).
PROPOSAL_BODY_EN = (
    "Our measurements have been back to normal for a while. This incident is resolved."
)
PROPOSAL_BODY_ZH = "我们的各项测量指标已恢复正常一段时间，此故障已解决。"


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


def _lang() -> str:
    """The active language as incident texts name it ("en" or "zh-Hans")."""
    return "zh-Hans" if (translation.get_language() or "").lower() == "zh-hans" else "en"


def status_word(code: str) -> str:
    """The incident/component status in the active language (the notices' own words)."""
    return STATUS_WORDS[_lang()].get(code, code)


def severity_names() -> dict[str, str]:
    return {lc.MINOR: _("Minor"), lc.MAJOR: _("Major"), lc.CRITICAL: _("Critical")}


def notice_state_names() -> dict[str, str]:
    return {
        "queued": _("Queued"),
        Notice.SENT: _("Sent"),
        Notice.FAILED: _("Failed"),
        Notice.SUPERSEDED: _("Superseded"),
        "none": _("No notice"),
    }


def channel_names() -> dict[str, str]:
    return {Notice.EMAIL: _("E-mail"), Notice.WEBHOOK: _("Webhook")}


# -- forms ---------------------------------------------------------------------------------


class PublicUpdateForm(forms.Form):
    """What every incident update carries, a manual incident's first one included: the
    public text in English (required) and Chinese (optional), an internal note, and whether
    to notify. Subclasses add their own fields and give the order they are shown in."""

    body_en = forms.CharField(
        label=gettext_lazy("Public update (English)"),
        max_length=10000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    body_zh = forms.CharField(
        label=gettext_lazy("Public update (Chinese)"),
        max_length=10000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4, "lang": "zh-Hans"}),
        help_text=gettext_lazy(
            "Customers who read Chinese get this text; empty means they get the English one."
        ),
    )
    internal_note = forms.CharField(
        label=gettext_lazy("Internal note (staff only)"),
        max_length=10000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    notify = forms.BooleanField(
        label=gettext_lazy("Send notices to affected customers"), required=False, initial=True
    )

class UpdateForm(PublicUpdateForm):
    status = forms.ChoiceField(label=gettext_lazy("New status"))
    severity = forms.ChoiceField(label=gettext_lazy("Severity"), required=False)
    field_order = ("status", "body_en", "body_zh", "internal_note", "severity", "notify")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["status"].choices = [(s, status_word(s)) for s in lc.STATUSES]
        self.fields["severity"].choices = [("", _("Unchanged")), *severity_names().items()]


class NewIncidentForm(PublicUpdateForm):
    service = forms.ChoiceField(label=gettext_lazy("Service"))
    region = forms.ChoiceField(label=gettext_lazy("Region"))
    title_en = forms.CharField(label=gettext_lazy("Title (English)"), max_length=200)
    title_zh = forms.CharField(
        label=gettext_lazy("Title (Chinese)"), max_length=200, required=False
    )
    severity = forms.ChoiceField(label=gettext_lazy("Severity"), initial=lc.MINOR)
    status = forms.ChoiceField(label=gettext_lazy("Status"), initial=lc.INVESTIGATING)
    carriers = forms.CharField(
        label=gettext_lazy("Carriers"),
        max_length=500,
        required=False,
        help_text=gettext_lazy("Optional: carrier names or ASNs, separated by commas."),
    )
    started_at = LocalDateTimeField(
        label=gettext_lazy("Started (your time)"),
        required=False,
        help_text=gettext_lazy("Empty means now."),
    )
    field_order = (
        "service",
        "region",
        "title_en",
        "title_zh",
        "severity",
        "status",
        "carriers",
        "started_at",
        "body_en",
        "body_zh",
        "internal_note",
        "notify",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["service"].choices = [
            ("", "—"),
            *((s.code, f"{s.name} ({s.code})") for s in Service.objects.order_by("code")),
        ]
        self.fields["region"].choices = [
            ("", "—"),
            *((r.code, r.name) for r in Region.objects.order_by("name")),
        ]
        self.fields["severity"].choices = list(severity_names().items())
        self.fields["status"].choices = [(s, status_word(s)) for s in lc.ACTIVE_STATUSES]

    def clean_carriers(self) -> list[str]:
        raw = self.cleaned_data.get("carriers", "")
        found = [p.strip() for p in raw.split(",") if p.strip()]
        if any(len(p) > 100 for p in found):
            raise forms.ValidationError(_("A carrier name may have at most 100 characters."))
        return list(dict.fromkeys(found))


def _refused(form: forms.Form, exc: incident_services.IncidentError) -> None:
    """Put a refused change on the form: on its field when it names one."""
    if exc.status == 409:
        form.add_error(
            "status",
            _(
                "This incident cannot move to that status: a resolved incident is final. "
                "Open a new incident for a relapse."
            ),
        )
    elif exc.field in form.fields:
        form.add_error(exc.field, str(exc))
    else:
        form.add_error(None, str(exc))


# -- list --------------------------------------------------------------------------------------


class ListFilters:
    def __init__(self, params: Any) -> None:
        self.errors: dict[str, str] = {}
        self.status = params.get("status", "") or ""
        self.service = params.get("service", "") or ""
        self.region = params.get("region", "") or ""
        if self.status not in ("", "active", *lc.STATUSES):
            self.errors["status"] = self.status
            self.status = ""
        if self.service and not Service.objects.filter(code=self.service).exists():
            self.errors["service"] = self.service
            self.service = ""
        if self.region and not Region.objects.filter(code=self.region).exists():
            self.errors["region"] = self.region
            self.region = ""

    def params(self) -> dict[str, str]:
        return {"status": self.status, "service": self.service, "region": self.region}

    def apply(self, qs: Any) -> Any:
        if self.status == "active":
            qs = qs.filter(status__in=lc.ACTIVE_STATUSES)
        elif self.status:
            qs = qs.filter(status=self.status)
        if self.service:
            qs = qs.filter(service__code=self.service)
        if self.region:
            qs = qs.filter(region__code=self.region)
        return qs


@page(STAFF)
def incident_list(request: HttpRequest) -> HttpResponse:
    filters = ListFilters(request.GET)
    base = filters.apply(Incident.objects.select_related("service", "region"))
    active = list(
        base.filter(status__in=lc.ACTIVE_STATUSES).order_by("-started_at", "-id")[:LIST_LIMIT]
    )
    recent = list(base.filter(status=lc.RESOLVED).order_by("-started_at", "-id")[:LIST_LIMIT])
    ids = [i.pk for i in active + recent]
    affected = dict(
        AffectedOrganisation.objects.filter(incident_id__in=ids)
        .values("incident_id")
        .annotate(n=Count("id"))
        .values_list("incident_id", "n")
    )
    tickets = dict(
        IncidentTicket.objects.filter(incident_id__in=ids)
        .values("incident_id")
        .annotate(n=Count("id"))
        .values_list("incident_id", "n")
    )
    sev = severity_names()

    def row(i: Incident) -> dict[str, Any]:
        return {
            "incident": i,
            "title": i.title(_lang()),
            "status_name": status_word(i.status),
            "severity_name": sev.get(i.severity, i.severity),
            "affected": affected.get(i.pk, 0),
            "tickets": tickets.get(i.pk, 0),
            "proposed": i.is_active and i.resolve_proposed_at is not None,
        }

    return render(
        request,
        "web/incidents/list.html",
        {
            "active": [row(i) for i in active],
            "recent": [row(i) for i in recent],
            "filters": filters,
            "statuses": [("active", _("Active")), *((s, status_word(s)) for s in lc.STATUSES)],
            "services": Service.objects.order_by("code"),
            "regions": Region.objects.order_by("name"),
            "query": query_string(filters.params()),
        },
        status=400 if filters.errors else 200,
    )


# -- detail ------------------------------------------------------------------------------------


def _incident(incident_id: int) -> Incident:
    inc = (
        Incident.objects.select_related("service", "region", "created_by")
        .filter(pk=incident_id)
        .first()
    )
    if inc is None:
        raise Http404(_("Incident not found."))
    return inc


def _delivery(inc: Incident) -> dict[str, Any]:
    """Notice delivery of the incident: counts per channel and state, and per organisation
    (of the affected ones shown) per channel."""
    states = notice_state_names()
    channels = channel_names()
    totals: dict[str, dict[str, int]] = {}
    for r in (
        Notice.objects.filter(incident=inc).values("channel", "status").annotate(n=Count("id"))
    ):
        state = "queued" if r["status"] in QUEUED else r["status"]
        per = totals.setdefault(
            r["channel"], {"queued": 0, Notice.SENT: 0, Notice.FAILED: 0, Notice.SUPERSEDED: 0}
        )
        per[state] = per.get(state, 0) + r["n"]
    affected_total = AffectedOrganisation.objects.filter(incident=inc).count()
    rows = list(
        AffectedOrganisation.objects.filter(incident=inc)
        .select_related("organisation__plan", "organisation__account_manager")
        .order_by("-is_key_account", "-share", "organisation_id")[:AFFECTED_LIMIT]
    )
    org_ids = [a.organisation_id for a in rows]
    per_org: dict[int, dict[str, dict[str, int]]] = {}
    for r in (
        Notice.objects.filter(incident=inc, organisation_id__in=org_ids)
        .values("organisation_id", "channel", "status")
        .annotate(n=Count("id"))
    ):
        state = "queued" if r["status"] in QUEUED else r["status"]
        ch = per_org.setdefault(r["organisation_id"], {}).setdefault(r["channel"], {})
        ch[state] = ch.get(state, 0) + r["n"]
    errors: dict[tuple[int, str], str] = {}
    for org_id, channel, error in (
        Notice.objects.filter(incident=inc, organisation_id__in=org_ids, status=Notice.FAILED)
        .order_by("id")
        .values_list("organisation_id", "channel", "last_error")
    ):
        errors[(org_id, channel)] = error[:200]
    affected = []
    for a in rows:
        chans = []
        for code, counts in sorted(per_org.get(a.organisation_id, {}).items()):
            # The organisation's state on a channel: failed beats queued beats sent.
            if counts.get(Notice.FAILED):
                state = Notice.FAILED
            elif counts.get("queued"):
                state = "queued"
            elif counts.get(Notice.SENT):
                state = Notice.SENT
            else:
                state = Notice.SUPERSEDED
            chans.append(
                {
                    "code": code,
                    "name": channels.get(code, code),
                    "state": state,
                    "state_name": states[state],
                    "counts": counts,
                    "error": errors.get((a.organisation_id, code), "")
                    if state == Notice.FAILED
                    else "",
                }
            )
        affected.append(
            {
                "row": a,
                "org": a.organisation,
                "channels": chans,
                "percent": a.share * 100,
                "none": states["none"] if not chans else "",
            }
        )
    return {
        "totals": [
            {
                "code": c,
                "name": channels.get(c, c),
                "queued": t["queued"],
                "sent": t[Notice.SENT],
                "failed": t[Notice.FAILED],
                "superseded": t[Notice.SUPERSEDED],
            }
            for c, t in sorted(totals.items())
        ],
        "affected": affected,
        "affected_total": affected_total,
        "affected_more": max(0, affected_total - len(rows)),
    }


def _proposal(inc: Incident) -> dict[str, Any] | None:
    """The detector's proposal to resolve, while the incident is still open: when metrics
    recovered, and the update a resolve from it posts."""
    if not inc.is_active or inc.resolve_proposed_at is None:
        return None
    stamp = inc.resolve_proposed_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M")
    return {
        "at": inc.resolve_proposed_at,
        "body_en": PROPOSAL_BODY_EN,
        "body_zh": PROPOSAL_BODY_ZH,
        "internal_note": f"Resolved from the recovery proposal (metrics recovered at {stamp} UTC).",
    }


def _detail(
    request: HttpRequest, inc: Incident, *, form: UpdateForm | None = None, status: int = 200
) -> HttpResponse:
    user = _user(request)
    proposal = _proposal(inc)
    if form is None:
        initial: dict[str, Any] = {"status": inc.status, "notify": True}
        if proposal is not None and request.GET.get("resolve") == "1":
            # "Edit before posting": the update form filled with the proposal's resolve.
            initial.update(
                status=lc.RESOLVED,
                body_en=proposal["body_en"],
                body_zh=proposal["body_zh"],
                internal_note=proposal["internal_note"],
            )
        form = UpdateForm(initial=initial)
    updates = list(
        IncidentUpdate.objects.filter(incident=inc)
        .select_related("created_by")
        .annotate(notice_count=Count("notices"))
        .order_by("-created_at", "-id")
    )
    links = list(
        IncidentTicket.objects.filter(incident=inc)
        .select_related("ticket__organisation")
        .order_by("linked_at", "id")
    )
    visible = set(
        visible_tickets(user)
        .filter(pk__in=[ln.ticket_id for ln in links])
        .values_list("pk", flat=True)
    )
    lang = _lang()
    sev = severity_names()
    return render(
        request,
        "web/incidents/detail.html",
        {
            "incident": inc,
            "title": inc.title(lang),
            "status_name": status_word(inc.status),
            "impact_name": status_word(inc.impact),
            "severity_name": sev.get(inc.severity, inc.severity),
            "timeline": [{"u": u, "status_name": status_word(u.status)} for u in updates],
            "form": form,
            "show_form": inc.is_active or status != 200,
            "proposal": proposal,
            "links": [
                {"link": ln, "ticket": ln.ticket, "visible": ln.ticket_id in visible}
                for ln in links
            ],
            "delivery": _delivery(inc),
        },
        status=status,
    )


@page(STAFF)
def incident_detail(request: HttpRequest, incident_id: int) -> HttpResponse:
    return _detail(request, _incident(incident_id))


@page(STAFF)
@require_POST
def incident_update(request: HttpRequest, incident_id: int) -> HttpResponse:
    inc = _incident(incident_id)
    form = UpdateForm(request.POST)
    if not form.is_valid():
        return _detail(request, inc, form=form, status=400)
    data = form.cleaned_data
    try:
        incident_services.post_update(
            inc,
            status=data["status"],
            body_en=data["body_en"],
            body_zh=data["body_zh"],
            internal_note=data["internal_note"],
            severity=data["severity"] or None,
            notify=data["notify"],
            created_by=_user(request),
        )
    except incident_services.IncidentError as exc:
        _refused(form, exc)
        return _detail(
            request,
            _incident(incident_id),
            form=form,
            status=409 if exc.status == 409 else (404 if exc.status == 404 else 400),
        )
    messages.success(request, _("Update posted."))
    return redirect("web:console-incident", incident_id=inc.pk)


@page(STAFF)
def incident_new(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        form = NewIncidentForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                inc = incident_services.open_incident(
                    service=data["service"],
                    region=data["region"],
                    title_en=data["title_en"],
                    title_zh=data["title_zh"],
                    body_en=data["body_en"],
                    body_zh=data["body_zh"],
                    internal_note=data["internal_note"],
                    severity=data["severity"],
                    status=data["status"],
                    carriers=data["carriers"],
                    started_at=data["started_at"],
                    source="manual",
                    notify=data["notify"],
                    created_by=_user(request),
                )
            except incident_services.IncidentError as exc:
                _refused(form, exc)
            else:
                messages.success(request, _("Incident opened."))
                return redirect("web:console-incident", incident_id=inc.pk)
        return render(request, "web/incidents/new.html", {"form": form}, status=400)
    active_places = Incident.objects.filter(status__in=lc.ACTIVE_STATUSES).select_related(
        "service", "region"
    )
    return render(
        request,
        "web/incidents/new.html",
        {
            "form": NewIncidentForm(
                initial={"severity": lc.MINOR, "status": lc.INVESTIGATING, "notify": True}
            ),
            "active": active_places.order_by("-started_at")[:20],
            "now": timezone.now(),
        },
    )
