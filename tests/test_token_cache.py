"""Token authentication reuses the user's object graph briefly, but every request re-checks
the token and the account's state, so revocation and deactivation take effect at once."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from relaydesk.api import auth
from relaydesk.core.models import APIToken, User


def _revoke_behind_orm(token_id: int) -> None:
    # .update() sends no signals, like a change made by another server process.
    APIToken.objects.filter(pk=token_id).update(revoked_at=timezone.now())


def test_revocation_in_another_process_is_immediate(world: Any) -> None:
    api = world.api(world.alice)
    assert api.get("/api/v1/tickets")[0] == 200
    token = APIToken.objects.get(digest=APIToken.hash(api.token))
    _revoke_behind_orm(token.pk)
    assert api.get("/api/v1/tickets")[0] == 401


def test_deactivation_and_expiry_are_immediate(world: Any) -> None:
    api = world.api(world.bob)
    assert api.get("/api/v1/tickets")[0] == 200
    User.objects.filter(pk=world.bob.pk).update(is_active=False)
    assert api.get("/api/v1/tickets")[0] == 401
    User.objects.filter(pk=world.bob.pk).update(is_active=True)
    assert api.get("/api/v1/tickets")[0] == 200
    APIToken.objects.filter(digest=APIToken.hash(api.token)).update(expires_at=timezone.now())
    assert api.get("/api/v1/tickets")[0] == 401


def test_moving_a_customer_to_another_organisation_changes_what_they_see(world: Any) -> None:
    from relaydesk.tickets.services import create_ticket

    t_globex = create_ticket(actor=world.carol, requester=world.carol, subject="Join fails", description="x")
    api = world.api(world.alice)
    assert api.get(f"/api/v1/tickets/{t_globex.pk}")[0] == 404
    # Moved behind the ORM's back (no signal): the fresh per-request check notices.
    User.objects.filter(pk=world.alice.pk).update(organisation=world.globex)
    status, body = api.get(f"/api/v1/tickets/{t_globex.pk}")
    assert status == 200 and body["id"] == t_globex.pk


def test_role_change_in_this_process_clears_the_cache(world: Any) -> None:
    from django.contrib.auth.models import Group

    from relaydesk.core.models import ROLE_GROUPS

    api = world.api(world.agent)
    assert api.get("/api/v1/organisations")[0] == 200
    assert auth._graphs  # the graph is cached
    world.agent.groups.add(Group.objects.get_or_create(name=ROLE_GROUPS["admin"])[0])
    assert not auth._graphs
