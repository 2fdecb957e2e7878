"""The customer portal: my organisation's tickets, filing and replying, API tokens."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from relaydesk.api.auth import visible_tickets
from relaydesk.core.models import APIToken, User
from relaydesk.tickets import services
from relaydesk.tickets.models import STATUS_CLOSED, STATUS_SOLVED, Attachment, Ticket

from . import forms as f
from .clocks import clock_views
from .common import page, query_string

CUSTOMER = User.KIND_CUSTOMER
STATUS_GROUPS = {"active": ["new", "open", "pending_customer", "on_hold"], "done": ["solved", "closed"]}


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


def _ticket(user: User, ticket_id: int) -> Ticket:
    """The ticket if the user's organisation owns it; 404 otherwise (same answer for
    'does not exist' and 'not yours')."""
    ticket = (
        visible_tickets(user)
        .select_related("organisation__plan", "requester", "assignee", "region", "sla_rule", "sla_calendar")
        .filter(pk=ticket_id)
        .first()
    )
    if ticket is None:
        raise Http404(_("Ticket not found."))
    return ticket


def uploads(request: HttpRequest) -> list[services.Upload]:
    files = request.FILES.getlist("attachments")
    if len(files) > f.MAX_FILES:
        raise services.TicketError(_("Attach at most %(n)d files at once.") % {"n": f.MAX_FILES}, field="attachments")
    return [
        services.Upload(filename=u.name or "attachment", content_type=u.content_type or "", data=u.read())
        for u in files
    ]


def upload_error(exc: services.TicketError) -> str:
    if exc.status == 413:
        return _("A file is too large; each file may have at most %(mb)d MB.") % {
            "mb": services.settings.RELAYDESK_MAX_ATTACHMENT_BYTES // (1024 * 1024)
        }
    if exc.status == 415:
        return _("This kind of file is not accepted; attach logs, images, videos, PDF or archives.")
    return exc.message


@page(CUSTOMER)
def ticket_list(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    qs = visible_tickets(user).select_related("assignee")
    status = request.GET.get("status", "active")
    priority = request.GET.get("priority", "")
    if status in STATUS_GROUPS:
        qs = qs.filter(status__in=STATUS_GROUPS[status])
    elif status in f.status_names():
        qs = qs.filter(status=status)
    else:
        status = "all"
    if priority in ("P1", "P2", "P3", "P4"):
        qs = qs.filter(priority=priority)
    else:
        priority = ""
    q = request.GET.get("q", "").strip()[:200]
    if q:
        term = q.lstrip("#")
        cond = Q(subject__icontains=term)
        if term.isdigit():
            cond |= Q(number=int(term))
        qs = qs.filter(cond)
    paginator = Paginator(qs.defer("description").order_by("-created_at", "-id"), 25)
    tickets = paginator.get_page(request.GET.get("page"))
    return render(
        request,
        "web/portal/list.html",
        {
            "tickets": tickets,
            "status": status,
            "priority": priority,
            "q": q,
            "status_names": f.status_names(),
            "filter_query": query_string({"status": status, "priority": priority, "q": q}),
        },
    )


# Fields a link may pre-fill on the new-ticket form (e.g. from the self-diagnosis page).
PREFILL = (
    "subject", "description", "category", "app_id", "channel_name", "region",
    "problem_start", "problem_end", "sdk", "sdk_version", "platform",
)


@page(CUSTOMER)
@require_http_methods(["GET", "POST"])
def ticket_new(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    initial = (
        {k: request.GET[k][:20000] for k in PREFILL if request.GET.get(k)} if request.method == "GET" else None
    )
    form = f.TicketForm(request.POST or None, initial=initial)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                ticket = services.create_ticket(
                    actor=user,
                    requester=user,
                    subject=form.cleaned_data["subject"],
                    description=form.cleaned_data["description"],
                    priority=form.cleaned_data["priority"],
                    category=form.cleaned_data["category"],
                    channel="portal",
                    context=form.context(),
                    attachments=uploads(request),
                )
            except services.TicketError as exc:
                target = exc.field if exc.field in form.fields else None
                form.add_error(target, upload_error(exc) if exc.field == "attachments" else exc.message)
            else:
                messages.success(request, _("Ticket #%(n)s is filed. We will answer here and by e-mail.") % {"n": ticket.number})
                return redirect("web:portal-ticket", ticket_id=ticket.pk)
        status = 400
    return render(request, "web/portal/new.html", {"form": form}, status=status)


def _detail(request: HttpRequest, ticket: Ticket, form: f.ReplyForm | None = None, status: int = 200) -> HttpResponse:
    public = ticket.messages.filter(is_public=True).select_related("author").prefetch_related("attachments")
    files = ticket.attachments.filter(Q(message__isnull=True) | Q(message__is_public=True))
    return render(
        request,
        "web/portal/detail.html",
        {
            "ticket": ticket,
            "conversation": public.order_by("created_at", "id"),
            "files": files,
            "clocks": clock_views(ticket),
            "form": form or f.ReplyForm(),
            "status_names": f.status_names(),
            "can_reply": ticket.status != STATUS_CLOSED,
            "can_solve": ticket.status not in (STATUS_SOLVED, STATUS_CLOSED),
            "can_reopen": ticket.status == STATUS_SOLVED,
        },
        status=status,
    )


@page(CUSTOMER)
def ticket_detail(request: HttpRequest, ticket_id: int) -> HttpResponse:
    return _detail(request, _ticket(_user(request), ticket_id))


@page(CUSTOMER)
@require_POST
def ticket_reply(request: HttpRequest, ticket_id: int) -> HttpResponse:
    user = _user(request)
    ticket = _ticket(user, ticket_id)
    form = f.ReplyForm(request.POST)
    if form.is_valid():
        try:
            services.add_message(
                ticket, author=user, body=form.cleaned_data["body"], is_public=True, channel="portal",
                attachments=uploads(request),
            )
        except services.TicketError as exc:
            form.add_error("body" if exc.field == "body" else None,
                           upload_error(exc) if exc.field == "attachments" else exc.message)
        else:
            messages.success(request, _("Your reply is sent."))
            return redirect("web:portal-ticket", ticket_id=ticket.pk)
    return _detail(request, ticket, form, status=400)


@page(CUSTOMER)
@require_POST
def ticket_status(request: HttpRequest, ticket_id: int) -> HttpResponse:
    """Customers may mark their ticket solved, or reopen a solved one."""
    user = _user(request)
    ticket = _ticket(user, ticket_id)
    wanted = request.POST.get("status")
    if wanted not in ("solved", "open"):
        messages.error(request, _("Choose 'solved' or 'open'."))
        return redirect("web:portal-ticket", ticket_id=ticket.pk)
    try:
        services.update_ticket(ticket, actor=user, changes={"status": wanted}, via="web")
    except services.TicketError:
        messages.error(request, _("This ticket cannot be changed that way now."))
    else:
        messages.success(request, _("Marked as solved. Thank you!") if wanted == "solved" else _("Ticket reopened."))
    return redirect("web:portal-ticket", ticket_id=ticket.pk)


def download(request: HttpRequest, attachment_id: int) -> HttpResponse:
    """A file on a ticket the viewer may see; customers only files of public messages."""
    user = request.user
    if not user.is_authenticated:
        from django.contrib.auth.views import redirect_to_login

        return redirect_to_login(request.get_full_path(), "web:login")
    assert isinstance(user, User)
    att = Attachment.objects.select_related("message").filter(pk=attachment_id).first()
    if att is None or not visible_tickets(user).filter(pk=att.ticket_id).exists():
        raise Http404(_("File not found."))
    if user.is_customer and att.message is not None and not att.message.is_public:
        raise Http404(_("File not found."))
    resp = FileResponse(att.file.open("rb"), as_attachment=True, filename=att.filename)
    resp["Content-Type"] = att.content_type
    return resp


@page(CUSTOMER)
def notices(request: HttpRequest) -> HttpResponse:
    return render(request, "web/portal/notices.html", {})


@page(CUSTOMER)
def preferences(request: HttpRequest) -> HttpResponse:
    """Notification preferences: the page is a shell; the incidents capability's API
    (/api/v1/notices/subscriptions and /webhooks) keeps the data and checks every field."""
    from relaydesk.core.models import Region, Service

    return render(
        request,
        "web/portal/preferences.html",
        {"services": Service.objects.order_by("name"), "regions": Region.objects.order_by("name")},
    )


@page(CUSTOMER)
@require_http_methods(["GET", "POST"])
def tokens(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    form = f.TokenForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            scopes = ["tickets:read"] + (["tickets:write"] if form.cleaned_data["write"] else [])
            token, secret = APIToken.issue(user, scopes, name=form.cleaned_data["name"])
            # Shown once, on the next page only; only the digest is stored.
            request.session["web_new_token"] = {"id": token.pk, "secret": secret}
            return redirect("web:portal-tokens")
        status = 400
    shown: dict[str, Any] | None = request.session.pop("web_new_token", None)
    return render(
        request,
        "web/portal/tokens.html",
        {
            "form": form if status == 400 else f.TokenForm(),
            "tokens": APIToken.objects.filter(user=user).order_by("-created_at"),
            "new_secret": shown["secret"] if shown else None,
            "now": timezone.now(),
        },
        status=status,
    )


@page(CUSTOMER)
@require_POST
def token_revoke(request: HttpRequest, token_id: int) -> HttpResponse:
    user = _user(request)
    updated = APIToken.objects.filter(pk=token_id, user=user, revoked_at__isnull=True).update(revoked_at=timezone.now())
    if not updated and not APIToken.objects.filter(pk=token_id, user=user).exists():
        raise Http404(_("Token not found."))
    messages.success(request, _("The token is revoked; requests with it are refused from now on."))
    return redirect("web:portal-tokens")

