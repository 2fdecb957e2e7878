"""Shared fixtures: a small world (regions, calendars, plans, teams, staff, customers) and an
API client that authenticates with real bearer tokens against the real URL configuration."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.test import Client

from relaydesk.core.models import ROLE_GROUPS, APIToken, Organisation, Region, Team, User
from relaydesk.sla import engine
from relaydesk.sla.defaults import install_default_policy
from relaydesk.sla.models import Plan

# The demo world's telemetry history: a quarter day is enough for the tests that load it.
os.environ.setdefault("RELAYDESK_DEMO_TELEMETRY_DAYS", "0.25")


@pytest.fixture(autouse=True)
def _fast_hashing(settings: Any, tmp_path: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.MEDIA_ROOT = str(tmp_path / "media")


class Api:
    """JSON calls as one user, through a bearer token."""

    def __init__(self, user: User, scopes: list[str] | None = None) -> None:
        self.user = user
        _, self.token = APIToken.issue(user, scopes or _scopes_for(user))
        self.client = Client()

    def _call(self, method: str, path: str, data: Any = None, raw: bytes | None = None, **extra: Any) -> tuple[int, Any]:
        kwargs: dict[str, Any] = {"HTTP_AUTHORIZATION": f"Bearer {self.token}", **extra}
        fn = getattr(self.client, method)
        if method == "get":
            resp = fn(path, data or {}, **kwargs)
        elif raw is not None:
            resp = fn(path, raw, content_type="application/json", **kwargs)
        else:
            resp = fn(path, json.dumps(data if data is not None else {}), content_type="application/json", **kwargs)
        try:
            body = resp.json()
        except ValueError:
            body = resp.content
        return resp.status_code, body

    def get(self, path: str, params: dict[str, Any] | None = None) -> tuple[int, Any]:
        return self._call("get", path, params)

    def post(self, path: str, data: Any = None, **kw: Any) -> tuple[int, Any]:
        return self._call("post", path, data, **kw)

    def patch(self, path: str, data: Any = None, **kw: Any) -> tuple[int, Any]:
        return self._call("patch", path, data, **kw)

    def put(self, path: str, data: Any = None, **kw: Any) -> tuple[int, Any]:
        return self._call("put", path, data, **kw)


def _scopes_for(user: User) -> list[str]:
    scopes = ["tickets:read", "tickets:write"]
    if user.is_admin_role:
        scopes.append("admin")
    return scopes


@dataclass
class World:
    sg: Region
    de: Region
    br: Region
    enterprise: Plan
    business: Plan
    standard: Plan
    developer: Plan
    apac: Team
    emea: Team
    agent: User  # APAC
    agent_emea: User
    lead: User
    admin: User
    acme: Organisation  # enterprise, SG, key account
    panda: Organisation  # standard, SG, zh-Hans
    globex: Organisation  # business, DE
    alice: User  # acme
    bob: User  # panda
    carol: User  # globex

    def api(self, user: User, scopes: list[str] | None = None) -> Api:
        return Api(user, scopes)


def make_staff(email: str, role: str, team: Team | None = None, **kw: Any) -> User:
    u = User.objects.create_user(username=email, email=email, password="a-long-test-password", kind=User.KIND_STAFF, team=team, is_staff=role in ("lead", "admin"), **kw)
    u.groups.add(Group.objects.get_or_create(name=ROLE_GROUPS[role])[0])
    return u


def make_customer(email: str, org: Organisation, **kw: Any) -> User:
    return User.objects.create_user(username=email, email=email, password="a-long-test-password", kind=User.KIND_CUSTOMER, organisation=org, **kw)


@pytest.fixture
def world(db: Any) -> World:
    install_default_policy()
    plans = {p.code: p for p in Plan.objects.all()}
    sg = Region.objects.create(code="sg", name="Singapore", country="SG", timezone="Asia/Singapore")
    de = Region.objects.create(code="de", name="Frankfurt", country="DE", subdivision="HE", timezone="Europe/Berlin")
    br = Region.objects.create(code="br", name="São Paulo", country="BR", subdivision="SP", timezone="America/Sao_Paulo")
    for r in (sg, de, br):
        engine.region_calendar(r)
    apac = Team.objects.create(name="APAC", region=sg, timezone="Asia/Singapore", languages=["en", "zh-Hans"])
    emea = Team.objects.create(name="EMEA", region=de, timezone="Europe/Berlin", languages=["en"])
    agent = make_staff("mei@relaydesk.test", "agent", apac, first_name="Mei", languages=["en", "zh-Hans"])
    agent_emea = make_staff("jonas@relaydesk.test", "agent", emea, first_name="Jonas")
    lead = make_staff("lead@relaydesk.test", "lead", apac, first_name="Lena")
    apac.lead = lead
    apac.save()
    admin = make_staff("admin@relaydesk.test", "admin", None, first_name="Ada")
    admin.is_superuser = True
    admin.save()
    acme = Organisation.objects.create(name="Acme Live", plan=plans["enterprise"], home_region=sg, is_key_account=True, account_manager=agent, timezone="Asia/Singapore")
    panda = Organisation.objects.create(name="Panda Video", plan=plans["standard"], home_region=sg, language="zh-Hans", timezone="Asia/Shanghai")
    globex = Organisation.objects.create(name="Globex Streams", plan=plans["business"], home_region=de, timezone="Europe/Berlin")
    acme.support_teams.add(apac)
    panda.support_teams.add(apac)
    globex.support_teams.add(emea)
    return World(
        sg=sg, de=de, br=br,
        enterprise=plans["enterprise"], business=plans["business"], standard=plans["standard"], developer=plans["developer"],
        apac=apac, emea=emea, agent=agent, agent_emea=agent_emea, lead=lead, admin=admin,
        acme=acme, panda=panda, globex=globex,
        alice=make_customer("alice@acme.test", acme, first_name="Alice"),
        bob=make_customer("bob@panda.test", panda, first_name="Bob", language="zh-Hans"),
        carol=make_customer("carol@globex.test", globex, first_name="Carol"),
    )
