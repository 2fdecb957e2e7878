"""Front door, login, logout and the language switch."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from relaydesk.core.auth_backend import too_many_failures

from .common import django_language, home_for, user_language


def home(request: HttpRequest) -> HttpResponse:
    return redirect(home_for(request.user))


def ticket_link(request: HttpRequest, number: int) -> HttpResponse:
    """``/tickets/<number>``, the link in notification e-mails: the ticket's page in the
    portal or the console, for whoever may see it (404 for everyone else)."""
    from django.contrib.auth.views import redirect_to_login
    from django.http import Http404

    from relaydesk.api.auth import visible_tickets

    user = request.user
    if not user.is_authenticated:
        return redirect_to_login(request.get_full_path(), "web:login")
    pk = visible_tickets(user).filter(number=number).values_list("pk", flat=True).first()  # type: ignore[arg-type]
    if pk is None:
        raise Http404(_("Ticket not found."))
    target = "web:portal-ticket" if user.kind == "customer" else "web:console-ticket"  # type: ignore[union-attr]
    return redirect(target, ticket_id=pk)


class LoginForm(AuthenticationForm):
    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": _("That e-mail address and password do not match an account. Check both and try again."),
        "inactive": _("This account is disabled."),
        "too_many": _("Too many failed logins for this account or address. Wait a few minutes and try again."),
    }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["username"].label = _("E-mail address")
        self.fields["username"].widget.attrs.update({"autocomplete": "email", "autofocus": True})
        self.fields["password"].label = _("Password")

    def clean(self) -> dict[str, Any]:
        username = self.cleaned_data.get("username")
        if username and too_many_failures(self.request, username):
            raise forms.ValidationError(self.error_messages["too_many"], code="too_many")
        return super().clean()


class LoginView(auth_views.LoginView):
    template_name = "web/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True

    def get_default_redirect_url(self) -> str:
        return home_for(self.request.user)

    def form_valid(self, form: AuthenticationForm) -> HttpResponse:
        response = super().form_valid(form)
        # The account's language wins from now on; the cookie keeps it after logout.
        lang = django_language(form.get_user().language)
        translation.activate(lang)
        response.set_cookie(settings.LANGUAGE_COOKIE_NAME, lang, samesite="Lax", max_age=365 * 86400)
        return response


class LogoutView(auth_views.LogoutView):
    next_page = "web:login"


@require_POST
def set_language(request: HttpRequest) -> HttpResponse:
    """Switch the language: the account's setting when logged in, and the cookie."""
    lang = django_language(request.POST.get("language"))
    nxt = request.POST.get("next") or "/"
    if not url_has_allowed_host_and_scheme(nxt, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        nxt = "/"
    user = request.user
    if user.is_authenticated:
        user.language = user_language(lang)  # type: ignore[union-attr]
        user.save(update_fields=["language"])  # type: ignore[union-attr]
    response = HttpResponseRedirect(nxt)
    response.set_cookie(settings.LANGUAGE_COOKIE_NAME, lang, samesite="Lax", max_age=365 * 86400)
    return response
