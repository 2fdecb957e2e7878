"""Inbound e-mail: one RFC 5322 message in, one outcome out.

``process_message`` turns a message into a new ticket, a reply on an existing ticket, a
no-op (a redelivery of something already processed) or a refusal. Everything it writes for
one message happens in one transaction, so a failure leaves nothing behind and the sending
MTA can retry.

Rules, in order:

1. **De-duplication.** The Message-ID (or, when there is none, a SHA-256 of the message
   without its trace headers) is recorded in :class:`~relaydesk.notify.models.InboundEmail`.
   A message whose id is already known — as inbound mail, as a ticket message, or as one of
   our own outbound mails looping back — is a ``duplicate`` and changes nothing.
2. **Sender.** The ``From`` address (falling back to the envelope sender) must be an active
   customer or staff user. Otherwise ``RELAYDESK_INBOUND_UNKNOWN_SENDERS`` decides:
   ``"reject"`` (default) refuses the mail; ``"accept"`` creates a customer user in the one
   organisation whose ``email_domains`` lists the sender's domain (no match: refused).
3. **Threading.** ``In-Reply-To`` / ``References`` are matched against our outbound
   Message-IDs, stored ticket message ids and the per-ticket root id
   ``<ticket.{id}@RELAYDESK_MAIL_DOMAIN>``; failing that a ``[#1234]`` ticket number in the
   subject. Either way the ticket must be one the sender may see (a customer: their own
   organisation's; staff: what the API would show them) — a header or number pointing at
   another organisation's ticket is ignored, never trusted.
4. **Reply.** A customer's mail becomes a public customer message; a staff member's mail a
   public agent reply (which is e-mailed to the requester). A reply to a *closed* ticket
   opens a new ticket that mentions the old number; staff cannot do that by mail and are
   refused. Automatic replies (``Auto-Submitted``, ``Precedence: bulk`` …) are kept as
   internal system notes so an out-of-office answer never reopens a ticket or starts a loop;
   one answering a closed ticket is refused rather than opening a follow-up.
5. **New ticket.** Only customers open tickets by mail. Priority is P3 unless the subject
   starts with ``P1:``, ``[P1]``, ``urgent`` or ``紧急`` (then P1). Automatic mail opens a
   ticket without an acknowledgement (no mail loops).

The body is the ``text/plain`` part (or a crude text rendering of the HTML part) with quoted
history and the signature removed (:func:`strip_quoted`). Attachments are kept when the
ticket service accepts them; a refused attachment is dropped with a note in the body, the
mail itself is still accepted.
"""

from __future__ import annotations

import hashlib
import html
import logging
import re
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import getaddresses, parseaddr
from html.parser import HTMLParser
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction

from relaydesk.core.models import Organisation, User
from relaydesk.tickets import services
from relaydesk.tickets.models import STATUS_CLOSED, Message, Ticket
from relaydesk.tickets.services import TicketError, Upload

from .models import InboundEmail, OutboundEmail
from .outbox import ticket_root_id

log = logging.getLogger(__name__)

CREATED = "created"
THREADED = "threaded"
DUPLICATE = "duplicate"
REJECTED = "rejected"

MAX_BODY_CHARS = 100_000
MAX_ATTACHMENTS = 20
MAX_REFERENCES = 50
SUBJECT_MAX = 250


@dataclass
class InboundResult:
    outcome: str  # created | threaded | duplicate | rejected
    ticket_id: int | None = None
    reason: str = ""
    ticket_number: int | None = None
    message_id: str = ""


class _Reject(Exception):
    """Refuse the mail; raised inside the transaction so everything written is rolled back."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


# -- entry point ----------------------------------------------------------------


def process_message(raw: bytes, *, envelope_from: str | None = None) -> InboundResult:
    """Process one inbound message (its raw bytes) and say what became of it."""
    msg = parse(raw)
    msg_id = message_id_of(msg, raw)
    sender, display_name = sender_of(msg, envelope_from)
    subject = _one_line(_header(msg, "Subject"))
    if not sender:
        return InboundResult(REJECTED, reason="no sender address", message_id=msg_id)
    if _is_own_address(sender):
        return InboundResult(REJECTED, reason="mail from RelayDesk itself", message_id=msg_id)
    try:
        with transaction.atomic():
            if already_seen(msg_id):
                return _duplicate(msg_id)
            # Claim the id first: a concurrent delivery of the same message blocks on (or
            # fails at) this unique row instead of creating a second ticket.
            record = InboundEmail.objects.create(
                message_id=msg_id, sender=sender[:254], subject=subject[:300], outcome="processing"
            )
            result = _apply(msg, msg_id, sender, display_name, subject)
            record.outcome = result.outcome
            record.ticket_id = result.ticket_id
            record.save(update_fields=["outcome", "ticket"])
            return result
    except _Reject as exc:
        log.info("inbound %s from %s rejected: %s", msg_id, sender, exc.reason)
        return InboundResult(REJECTED, reason=exc.reason, message_id=msg_id)
    except TicketError as exc:
        log.info("inbound %s from %s refused by the ticket service: %s", msg_id, sender, exc)
        return InboundResult(REJECTED, reason=exc.message, message_id=msg_id)
    except IntegrityError:
        # Lost a race against a concurrent delivery of the same message.
        if already_seen(msg_id):
            return _duplicate(msg_id)
        raise


def _duplicate(msg_id: str) -> InboundResult:
    seen = InboundEmail.objects.filter(message_id=msg_id).values_list("ticket_id", flat=True).first()
    if seen is None:
        seen = (
            Message.objects.filter(email_message_id=msg_id).values_list("ticket_id", flat=True).first()
        )
    return InboundResult(DUPLICATE, ticket_id=seen, message_id=msg_id)


def already_seen(msg_id: str) -> bool:
    return (
        InboundEmail.objects.filter(message_id=msg_id).exists()
        or Message.objects.filter(email_message_id=msg_id).exists()
        or OutboundEmail.objects.filter(message_id=msg_id).exists()
    )


def _apply(
    msg: EmailMessage, msg_id: str, sender: str, display_name: str, subject: str
) -> InboundResult:
    user = _sender_user(sender, display_name)
    automatic = is_auto_submitted(msg)
    uploads, notes = _attachments(msg)
    text = body_text(msg)
    body = _compose_body(text, notes, has_uploads=bool(uploads))

    ticket = find_ticket(msg, user, subject)
    follow_up_of: Ticket | None = None
    if ticket is not None:
        ticket = Ticket.objects.select_for_update().get(pk=ticket.pk)
        if ticket.status != STATUS_CLOSED:
            return _reply(ticket, user, body, msg_id, uploads, automatic)
        if not user.is_customer:
            raise _Reject(f"ticket #{ticket.number} is closed")
        if automatic:
            raise _Reject(f"automatic reply to closed ticket #{ticket.number}; not kept")
        follow_up_of = ticket
    if not user.is_customer:
        raise _Reject("staff mail must reply to an existing ticket")
    description = body
    if follow_up_of is not None:
        description = f"Follow-up to #{follow_up_of.number} (closed).\n\n{body}"
    clean = clean_subject(subject) or "(no subject)"
    ticket = services.create_ticket(
        actor=user,
        requester=user,
        subject=clean[:SUBJECT_MAX],
        description=description,
        priority=priority_from_subject(subject),
        channel="email",
        email_message_id=msg_id,
        attachments=uploads,
        auto_ack=not automatic,
    )
    return InboundResult(CREATED, ticket_id=ticket.pk, ticket_number=ticket.number, message_id=msg_id)


def _reply(
    ticket: Ticket, user: User, body: str, msg_id: str, uploads: list[Upload], automatic: bool
) -> InboundResult:
    if automatic:
        # An out-of-office or other machine answer: keep it for the agents, but as a system
        # note, so it neither reopens the ticket nor restarts a clock nor mails anyone.
        services.add_message(
            ticket,
            author=None,
            body=f"Automatic reply from {user.email}:\n\n{body}",
            is_public=False,
            is_auto=True,
            channel="email",
            email_message_id=msg_id,
            attachments=uploads,
        )
    else:
        services.add_message(
            ticket,
            author=user,
            body=body,
            is_public=True,
            channel="email",
            email_message_id=msg_id,
            attachments=uploads,
        )
    return InboundResult(THREADED, ticket_id=ticket.pk, ticket_number=ticket.number, message_id=msg_id)


# -- parsing ----------------------------------------------------------------------


def parse(raw: bytes) -> EmailMessage:
    msg = BytesParser(policy=policy.default).parsebytes(raw)
    assert isinstance(msg, EmailMessage)
    return msg


def _header(msg: EmailMessage, name: str) -> str:
    try:
        value = msg.get(name)
    except Exception:  # a malformed header must not lose the mail
        log.debug("unparseable %s header", name, exc_info=True)
        raw = msg.get_all(name, failobj=[])
        value = raw[0] if raw else None
    return "" if value is None else str(value)


def _one_line(value: str) -> str:
    return " ".join(value.split())


_ID_RE = re.compile(r"<[^<>\s]+>")
_TRACE_HEADERS = {b"received", b"return-path", b"delivered-to", b"x-original-to"}


def message_id_of(msg: EmailMessage, raw: bytes) -> str:
    """The message's ``<id>``; without a usable one, a synthetic id from a SHA-256 of the
    message minus the trace headers each hop adds (so a redelivery gets the same id)."""
    found = _ID_RE.search(_header(msg, "Message-ID"))
    if found and len(found.group(0)) <= 250:
        return found.group(0)
    digest = hashlib.sha256(_without_trace_headers(raw)).hexdigest()
    return f"<sha256.{digest}@inbound.{settings.RELAYDESK_MAIL_DOMAIN}>"


def _without_trace_headers(raw: bytes) -> bytes:
    data = raw.replace(b"\r\n", b"\n")
    head, sep, body = data.partition(b"\n\n")
    kept: list[bytes] = []
    skipping = False
    for line in head.split(b"\n"):
        if line[:1] in (b" ", b"\t"):  # continuation of the previous header
            if not skipping:
                kept.append(line)
            continue
        name = line.split(b":", 1)[0].strip().lower()
        skipping = name in _TRACE_HEADERS
        if not skipping:
            kept.append(line)
    return b"\n".join(kept) + sep + body


def sender_of(msg: EmailMessage, envelope_from: str | None) -> tuple[str, str]:
    """(address, display name) of the author: the From header, else the envelope sender."""
    name, addr = "", ""
    try:
        header = msg.get("From")
        addresses = getattr(header, "addresses", ()) if header is not None else ()
        if addresses:
            name, addr = addresses[0].display_name, addresses[0].addr_spec
    except Exception:
        log.debug("unparseable From header", exc_info=True)
    if not addr or "@" not in addr:
        pairs = getaddresses(msg.get_all("From", failobj=[]) or [])
        for n, a in pairs:
            if "@" in a:
                name, addr = n, a
                break
    if (not addr or "@" not in addr) and envelope_from:
        name, addr = "", parseaddr(envelope_from)[1]
    addr = addr.strip().strip("<>")
    if "@" not in addr or any(c.isspace() for c in addr) or len(addr) > 254:
        return "", ""
    local, _, domain = addr.rpartition("@")
    return f"{local}@{domain.lower()}", _one_line(name or "")


def _is_own_address(address: str) -> bool:
    own = parseaddr(settings.DEFAULT_FROM_EMAIL)[1]
    return bool(own) and own.lower() == address.lower()


_AUTO_PRECEDENCE = {"bulk", "junk", "list", "auto_reply"}


def is_auto_submitted(msg: EmailMessage) -> bool:
    """An automatic message (RFC 3834 ``Auto-Submitted``, or the common older markers)."""
    auto = _header(msg, "Auto-Submitted").strip().lower()
    if auto and auto != "no":
        return True
    if _header(msg, "Precedence").strip().lower() in _AUTO_PRECEDENCE:
        return True
    return bool(_header(msg, "X-Autoreply") or _header(msg, "X-Autorespond"))


# -- who sent it ---------------------------------------------------------------------


def _sender_user(sender: str, display_name: str) -> User:
    user = User.objects.filter(email__iexact=sender).select_related("organisation", "team").first()
    if user is not None:
        if not user.is_active:
            raise _Reject("sender's account is disabled")
        if user.kind == User.KIND_SYSTEM:
            raise _Reject("sender is a system account")
        return user
    if settings.RELAYDESK_INBOUND_UNKNOWN_SENDERS != "accept":
        raise _Reject("sender is not a known customer; please use the support portal")
    org = organisation_for_domain(sender.rpartition("@")[2])
    if org is None:
        raise _Reject("sender's domain does not belong to a customer organisation")
    username = sender.lower() if len(sender) <= 150 else hashlib.sha256(sender.encode()).hexdigest()
    user = User.objects.create_user(
        username=username,
        email=sender.lower(),
        password=None,
        kind=User.KIND_CUSTOMER,
        organisation=org,
        first_name=display_name[:150],
        language=org.language,
    )
    log.info("inbound mail: created customer %s in %s", user.email, org)
    return user


def organisation_for_domain(domain: str) -> Organisation | None:
    """The one organisation that lists ``domain`` in its ``email_domains`` (none if two do)."""
    domain = domain.strip().lower()
    matches = [
        org
        for org in Organisation.objects.only("pk", "email_domains", "language")
        if domain in {str(d).strip().lower().lstrip("@") for d in (org.email_domains or [])}
    ]
    return matches[0] if len(matches) == 1 else None


# -- threading -----------------------------------------------------------------------

_NUMBER_RE = re.compile(r"\[#(\d{1,18})\]")


def referenced_ids(msg: EmailMessage) -> list[str]:
    """In-Reply-To first, then References newest first (bounded)."""
    ids = _ID_RE.findall(_header(msg, "In-Reply-To"))
    refs = _ID_RE.findall(_header(msg, "References"))
    ids += list(reversed(refs))[:MAX_REFERENCES]
    return list(dict.fromkeys(ids))


_ROOT_RE = re.compile(r"^<ticket\.(\d{1,18})@")


def _root_ticket_id(msg_id: str) -> int | None:
    """The ticket id of a per-ticket root id (``outbox.ticket_root_id``), else None."""
    m = _ROOT_RE.match(msg_id)
    if m is None:
        return None
    tid = int(m.group(1))
    return tid if ticket_root_id(tid).lower() == msg_id.lower() else None


def find_ticket(msg: EmailMessage, user: User, subject: str) -> Ticket | None:
    """The ticket this mail answers, if the sender may see it."""
    from relaydesk.api.auth import visible_tickets

    ids = referenced_ids(msg)
    if ids:
        by_outbound = dict(
            OutboundEmail.objects.filter(message_id__in=ids, ticket_id__isnull=False).values_list(
                "message_id", "ticket_id"
            )
        )
        by_message = dict(
            Message.objects.filter(email_message_id__in=ids).values_list(
                "email_message_id", "ticket_id"
            )
        )
        candidates: list[int] = []
        for i in ids:
            for tid in (_root_ticket_id(i), by_outbound.get(i), by_message.get(i)):
                if tid is not None and tid not in candidates:
                    candidates.append(tid)
        if candidates:
            visible = set(
                visible_tickets(user).filter(pk__in=candidates).values_list("pk", flat=True)
            )
            for tid in candidates:
                if tid in visible:
                    return Ticket.objects.get(pk=tid)
    m = _NUMBER_RE.search(subject)
    if m:
        return visible_tickets(user).filter(number=int(m.group(1))).first()
    return None


_REPLY_PREFIX = re.compile(r"^\s*(?:(?:re|aw|sv|antw|回复|答复)\s*[:\uff1a]\s*)+", re.IGNORECASE)


def clean_subject(subject: str) -> str:
    """Subject for a new ticket: without our ``[#N]`` tag and leading reply prefixes."""
    s = _NUMBER_RE.sub(" ", subject)
    s = _one_line(s)
    prev = None
    while prev != s:
        prev = s
        s = _REPLY_PREFIX.sub("", s).strip()
    return s


_P1_RE = re.compile(r"^\s*(?:\[P1\]|P1\s*:|urgent\b|紧急)", re.IGNORECASE)


def priority_from_subject(subject: str) -> str:
    """P1 when the (reply-prefix free) subject starts with ``P1:``, ``[P1]``, ``urgent`` or
    ``紧急``; P3 otherwise. Agents re-prioritise from there."""
    return "P1" if _P1_RE.match(clean_subject(subject)) else "P3"


# -- body ------------------------------------------------------------------------------


def body_text(msg: EmailMessage) -> str:
    """The readable text: text/plain preferred, else the HTML part rendered crudely."""
    part = msg.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    text = _part_text(part)
    if part.get_content_type() == "text/html":
        text = html_to_text(text)
    return text


def _part_text(part: Any) -> str:
    try:
        content = part.get_content()
    except (LookupError, ValueError, AssertionError):  # unknown charset, broken encoding
        payload = part.get_payload(decode=True) or b""
        return payload.decode("utf-8", errors="replace")
    if isinstance(content, bytes):
        return content.decode("utf-8", errors="replace")
    return str(content)


def _compose_body(text: str, notes: list[str], *, has_uploads: bool) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    body = strip_quoted(text)
    if not body:
        body = text.strip()
    if len(body) > MAX_BODY_CHARS:
        body = body[:MAX_BODY_CHARS] + "\n\n[message truncated]"
    if notes:
        body = (body + "\n\n" if body else "") + "\n".join(notes)
    if not body:
        body = "(attachments only)" if has_uploads else "(empty message)"
    return body


class _HTMLText(HTMLParser):
    BLOCK = {"p", "div", "tr", "li", "ul", "ol", "table", "h1", "h2", "h3", "h4", "h5", "h6", "pre"}
    SKIP = {"script", "style", "head", "title"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.quote = 0
        self.skip = 0

    def _newline(self) -> None:
        self.out.append("\n")

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.SKIP:
            self.skip += 1
        elif tag == "br":
            self._newline()
        elif tag == "blockquote":
            self._newline()
            self.quote += 1
        elif tag in self.BLOCK:
            self._newline()

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "br":
            self._newline()

    def handle_endtag(self, tag: str) -> None:
        if tag in self.SKIP:
            self.skip = max(0, self.skip - 1)
        elif tag == "blockquote":
            self.quote = max(0, self.quote - 1)
            self._newline()
        elif tag in self.BLOCK:
            self._newline()

    def handle_data(self, data: str) -> None:
        if self.skip:
            return
        text = re.sub(r"[ \t\r\n\f]+", " ", data)
        if not text.strip():
            if self.out and not self.out[-1].endswith(("\n", " ")):
                self.out.append(" ")
            return
        at_line_start = not self.out or self.out[-1].endswith("\n")
        if at_line_start:
            text = text.lstrip()
            if self.quote:
                text = "> " * self.quote + text
        self.out.append(text)


def html_to_text(markup: str) -> str:
    """Crude HTML → text: tags dropped, entities unescaped, blocks and ``<br>`` become line
    breaks, ``<blockquote>`` content is prefixed with ``>`` (so quote stripping applies)."""
    parser = _HTMLText()
    try:
        parser.feed(markup)
        parser.close()
    except Exception:  # pragma: no cover - HTMLParser is lenient; belt and braces
        return html.unescape(re.sub(r"<[^>]*>", " ", markup))
    text = "".join(parser.out).replace("\xa0", " ")
    lines = [line.rstrip() for line in text.split("\n")]
    text = "\n".join(lines)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


# -- quoted history ------------------------------------------------------------------

_ON_WROTE = re.compile(r"^\s*On\s.+\swrote\s*:\s*$", re.IGNORECASE)
_ON_START = re.compile(r"^\s*On\s", re.IGNORECASE)
_WROTE_END = re.compile(r"\swrote\s*:\s*$", re.IGNORECASE)
_AM_SCHRIEB = re.compile(r"^\s*Am\s.+\sschrieb\s.*:\s*$", re.IGNORECASE)
_ZH_WROTE = re.compile(r"^\s*(?:在.*|.*于.*)写道\s*[:\uff1a]\s*$")
_ORIGINAL = re.compile(
    r"^\s*-{2,}\s*(?:Original Message|原始邮件|原始郵件)\s*-{2,}\s*$", re.IGNORECASE
)
_UNDERSCORES = re.compile(r"^\s*_{10,}\s*$")
_OUTLOOK_FROM = re.compile(r"^\s*\*?(?:From|发件人|寄件者)\s*\*?\s*[:\uff1a]", re.IGNORECASE)
_OUTLOOK_SENT = re.compile(
    r"^\s*\*?(?:Sent|Date|发送时间|日期|時間|傳送時間)\s*\*?\s*[:\uff1a]", re.IGNORECASE
)


def _is_quote(line: str) -> bool:
    return line.lstrip().startswith(">")


def _marker_at(lines: list[str], i: int) -> int:
    """How many lines the quote header starting at line ``i`` spans (0: none)."""
    line = lines[i]
    if _ON_WROTE.match(line) or _AM_SCHRIEB.match(line) or _ZH_WROTE.match(line):
        return 1
    if _ORIGINAL.match(line):
        return 1
    nxt = lines[i + 1] if i + 1 < len(lines) else ""
    # Gmail wraps a long attribution: "On Tue, … Alice <\nalice@example.com> wrote:"
    if _ON_START.match(line) and _WROTE_END.search(nxt) and len(line) + len(nxt) < 300:
        return 2
    if _OUTLOOK_FROM.match(line) and any(
        _OUTLOOK_SENT.match(x) for x in lines[i + 1 : i + 5]
    ):
        return 1
    if _UNDERSCORES.match(line):
        rest = [x for x in lines[i + 1 : i + 4] if x.strip()]
        if rest and _OUTLOOK_FROM.match(rest[0]):
            return 1
    return 0


def strip_quoted(text: str) -> str:
    """The new part of a reply: without the quoted history and the signature.

    Cut at the first quote header ("On … wrote:", "在 … 写道", "-----Original Message-----",
    Outlook's "From: … Sent: …" block). When the header introduces a ``>`` block that is
    followed by more text (a bottom-posted answer), only the header and that block go.
    Then a trailing block of ``>`` lines goes, and a signature after a ``-- `` line.
    """
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    for i in range(len(lines)):
        span = _marker_at(lines, i)
        if not span:
            continue
        k = i + span
        while k < len(lines) and not lines[k].strip():
            k += 1
        if k < len(lines) and _is_quote(lines[k]):
            end = k
            while end < len(lines) and (_is_quote(lines[end]) or not lines[end].strip()):
                end += 1
            rest = lines[end:]
            lines = lines[:i] + (rest if any(x.strip() for x in rest) else [])
        else:
            lines = lines[:i]
        break
    # A trailing block of quoted lines (and blank lines around it).
    end = len(lines)
    while end > 0 and (not lines[end - 1].strip() or _is_quote(lines[end - 1])):
        end -= 1
    lines = lines[:end]
    # Signature: everything after the last "-- " separator line (RFC 3676).
    for j in range(len(lines) - 1, -1, -1):
        if lines[j] == "-- ":
            lines = lines[:j]
            break
    return "\n".join(line.rstrip() for line in lines).strip()


# -- attachments ---------------------------------------------------------------------


def _attachment_parts(msg: EmailMessage) -> list[Any]:
    body = msg.get_body(preferencelist=("plain", "html"))
    parts: list[Any] = []

    def walk(part: Any) -> None:
        ctype = part.get_content_type()
        if part is not msg and ctype == "message/rfc822":
            parts.append(part)  # a forwarded mail as a whole; never descend into it
            return
        if part.is_multipart():
            for sub in part.iter_parts():
                walk(sub)
            return
        if part is body:
            return
        if part.get_filename() or part.get_content_disposition() == "attachment":
            parts.append(part)
        elif part.get_content_maintype() not in ("text", "multipart"):
            parts.append(part)  # unnamed inline binary (e.g. a pasted image)

    walk(msg)
    return parts


def _attachments(msg: EmailMessage) -> tuple[list[Upload], list[str]]:
    """Uploads the ticket service will accept, and a note for each one it would refuse."""
    uploads: list[Upload] = []
    notes: list[str] = []
    for n, part in enumerate(_attachment_parts(msg), start=1):
        ctype = part.get_content_type()
        name = _one_line(part.get_filename() or "") or (
            "forwarded.eml" if ctype == "message/rfc822" else f"attachment-{n}"
        )
        if len(uploads) >= MAX_ATTACHMENTS:
            notes.append(
                f"[Attachment “{name}” was not kept: more than {MAX_ATTACHMENTS} attachments]"
            )
            continue
        inner = part.get_payload() if ctype == "message/rfc822" else None
        if isinstance(inner, list) and inner:
            data = inner[0].as_bytes()
        else:
            data = part.get_payload(decode=True) or b""
        up = Upload(filename=name, content_type=ctype, data=data)
        try:
            services.validate_upload(up)
        except TicketError as exc:
            if exc.status == 413:
                why = (
                    f"it is {len(data)} bytes, the limit is "
                    f"{settings.RELAYDESK_MAX_ATTACHMENT_BYTES}"
                )
            else:
                why = f"files of type {ctype} are not accepted"
            notes.append(f"[Attachment “{name}” was not kept: {why}]")
            continue
        uploads.append(up)
    return uploads, notes
