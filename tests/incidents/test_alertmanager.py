"""The Alertmanager receiver: payload v4, bearer token, label mapping, idempotent repeats."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from django.test import Client

from relaydesk.core.models import APIToken, User
from relaydesk.incidents.models import AlertState, Component, Incident, IncidentUpdate, Notice

pytestmark = pytest.mark.django_db

PATH = "/api/v1/integrations/alertmanager"


def payload(status: str = "firing", alerts: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    alerts = alerts or [alert("a1b2c3d4e5f60718", status)]
    return {
        "version": "4",
        "groupKey": '{}:{alertname="JoinSuccessLow", region="sg"}',
        "truncatedAlerts": 0,
        "status": status,
        "receiver": "relaydesk",
        "groupLabels": {"alertname": "JoinSuccessLow"},
        "commonLabels": {"alertname": "JoinSuccessLow", "service": "rtc", "region": "sg", "severity": "critical"},
        "commonAnnotations": {"summary": "Join success rate below 95% in Singapore"},
        "externalURL": "http://alertmanager.test:9093",
        "alerts": alerts,
    }


def alert(fp: str, status: str = "firing", **labels: str) -> dict[str, Any]:
    return {
        "status": status,
        "labels": {"alertname": "JoinSuccessLow", "service": "rtc", "region": "sg", **labels},
        "annotations": {"description": "join_success_rate 0.91"},
        "startsAt": "2026-11-25T10:00:00Z",
        "endsAt": "2026-11-25T10:30:00Z" if status == "resolved" else "0001-01-01T00:00:00Z",
        "generatorURL": "http://prometheus.test/graph?g0.expr=...",
        "fingerprint": fp,
    }


@pytest.fixture
def am(place: Any) -> Any:
    bot = User.objects.create_user(username="am@relaydesk.test", email="am@relaydesk.test", kind=User.KIND_SYSTEM)
    return place.api(bot, ["incidents:write"])


def test_same_payload_three_times_is_one_incident(am: Any) -> None:
    for i in range(3):
        status, body = am.post(PATH, payload())
        assert status == 200, body
        assert body["opened"] == (1 if i == 0 else 0)
    assert Incident.objects.count() == 1
    inc = Incident.objects.get()
    assert inc.source == "alertmanager" and inc.severity == "critical" and inc.status == "investigating"
    assert IncidentUpdate.objects.count() == 1
    assert Notice.objects.count() == 2  # alice and bob, once
    assert Component.objects.get(region__code="sg").status == "major_outage"


def test_firing_then_resolved_updates_the_same_incident(am: Any) -> None:
    am.post(PATH, payload("firing", [alert("f1"), alert("f2", carrier="AS7713")]))
    inc = Incident.objects.get()
    status, body = am.post(PATH, payload("resolved", [alert("f1", "resolved")]))
    assert status == 200 and body["incidents"] == [inc.pk]
    inc.refresh_from_db()
    assert inc.status == "investigating"  # f2 still firing
    for _ in range(2):  # the resolve, delivered twice
        am.post(PATH, payload("resolved", [alert("f1", "resolved"), alert("f2", "resolved")]))
    inc.refresh_from_db()
    assert inc.status == "resolved" and inc.resolved_at is not None
    assert Incident.objects.count() == 1
    assert list(inc.updates.values_list("status", flat=True)) == ["investigating", "resolved"]
    assert Component.objects.get(region__code="sg").status == "operational"
    assert set(AlertState.objects.values_list("status", flat=True)) == {"resolved"}


def test_alert_joins_an_active_incident_of_the_same_place(am: Any, place: Any) -> None:
    _, inc = place.api(place.lead, ["incidents:write"]).post(
        "/api/v1/incidents",
        {"service": "rtc", "region": "sg", "title_en": "Manual", "body_en": "looking", "severity": "minor"},
    )
    _, body = am.post(PATH, payload())
    assert body["incidents"] == [inc["id"]] and body["opened"] == 0
    i = Incident.objects.get()
    assert i.severity == "critical"  # the alert raised it
    # the resolved alert does not resolve an incident a human opened
    am.post(PATH, payload("resolved", [alert("a1b2c3d4e5f60718", "resolved")]))
    i.refresh_from_db()
    assert i.status == "investigating"


def test_label_mapping_is_configurable(am: Any, settings: Any) -> None:
    settings.RELAYDESK_ALERTMANAGER_MAPPING = {
        "region_labels": ["dc"],
        "region_values": {"ap-southeast-1": "sg"},
        "severity_values": {"p2": "major"},
    }
    p = payload(alerts=[{**alert("m1"), "labels": {"alertname": "X", "service": "rtc", "dc": "ap-southeast-1", "severity": "P2"}}])
    p["commonLabels"] = {}
    status, body = am.post(PATH, p)
    assert status == 200 and body["opened"] == 1, body
    inc = Incident.objects.get()
    assert inc.region.code == "sg" and inc.severity == "major"


def test_unmappable_alert_is_skipped_with_a_reason(am: Any) -> None:
    p = payload(alerts=[alert("u1", region="atlantis")])
    p["commonLabels"] = {}
    status, body = am.post(PATH, p)
    assert status == 200 and body["opened"] == 0
    assert body["skipped"][0]["fingerprint"] == "u1" and "region" in body["skipped"][0]["reason"]
    assert not Incident.objects.exists()


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda p: p.update(version="3"), "version"),
        (lambda p: p["alerts"][0].pop("fingerprint"), "fingerprint"),
        (lambda p: p["alerts"][0].update(startsAt="yesterday"), "startsAt"),
        (lambda p: p["alerts"][0].update(status="pending"), "status"),
        (lambda p: p.pop("alerts"), "alerts"),
    ],
)
def test_malformed_payload_is_422_and_changes_nothing(am: Any, mutate: Any, field: str) -> None:
    p = copy.deepcopy(payload())
    mutate(p)
    status, body = am.post(PATH, p)
    assert status == 422 and field in body["detail"], body
    assert not Incident.objects.exists() and not AlertState.objects.exists()


def test_bearer_token_and_scope_required(place: Any) -> None:
    c = Client()
    resp = c.post(PATH, payload(), content_type="application/json")
    assert resp.status_code == 401
    resp = c.post(PATH, payload(), content_type="application/json", HTTP_AUTHORIZATION="Bearer rdk_wrong")
    assert resp.status_code == 401
    # a token without the scope
    assert place.api(place.lead, ["tickets:read"]).post(PATH, payload())[0] == 403
    # a customer token, even with the scope string, may not post alerts
    _, secret = APIToken.issue(place.alice, ["tickets:read"])
    resp = c.post(PATH, payload(), content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert resp.status_code == 403
    assert not Incident.objects.exists()
