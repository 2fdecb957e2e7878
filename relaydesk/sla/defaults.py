"""The standard support promise (plans × priorities), as shipped with RelayDesk and used by
the demo world. A lead can change every number afterwards; these are a sensible start.

One business day is 9 business hours (09:00–18:00 on the region's calendar).
"""

from __future__ import annotations

from django.db import transaction

from .models import Plan, SLAPolicy, SLARule

H = 60
BD = 9 * H  # one business day in business minutes

PLANS = [
    ("enterprise", "Enterprise", 40, "24×7 for P1–P2, named account manager"),
    ("business", "Business", 30, "24×7 for P1"),
    ("standard", "Standard", 20, "Business hours of the customer's region"),
    ("developer", "Developer", 10, "Business hours, best effort for P4"),
]

# plan -> priority -> (first response, next response, resolution, calendar mode); minutes.
# None = no target (best effort). "24x7" runs around the clock, "customer_region" follows the
# business calendar of the customer's home region.
TARGETS: dict[str, dict[str, tuple[int | None, int | None, int | None, str]]] = {
    "enterprise": {
        "P1": (15, 30, 4 * H, "24x7"),
        "P2": (1 * H, 2 * H, 24 * H, "24x7"),
        "P3": (4 * H, 8 * H, 3 * BD, "customer_region"),
        "P4": (1 * BD, 2 * BD, 10 * BD, "customer_region"),
    },
    "business": {
        "P1": (30, 1 * H, 8 * H, "24x7"),
        "P2": (2 * H, 4 * H, 2 * BD, "customer_region"),
        "P3": (8 * H, 1 * BD, 5 * BD, "customer_region"),
        "P4": (2 * BD, 3 * BD, 15 * BD, "customer_region"),
    },
    "standard": {
        "P1": (1 * H, 2 * H, 24 * H, "customer_region"),
        "P2": (4 * H, 1 * BD, 3 * BD, "customer_region"),
        "P3": (1 * BD, 2 * BD, 10 * BD, "customer_region"),
        "P4": (3 * BD, 3 * BD, 20 * BD, "customer_region"),
    },
    "developer": {
        "P1": (4 * H, 1 * BD, None, "customer_region"),
        "P2": (1 * BD, 2 * BD, None, "customer_region"),
        "P3": (2 * BD, 3 * BD, None, "customer_region"),
        "P4": (None, None, None, "customer_region"),
    },
}


@transaction.atomic
def install_default_policy(name: str = "Standard support promise") -> SLAPolicy:
    """Create the four plans and an active policy with one rule per plan × priority."""
    plans = {}
    for code, title, rank, desc in PLANS:
        plans[code], _ = Plan.objects.update_or_create(
            code=code, defaults={"name": title, "rank": rank, "description": desc}
        )
    policy, created = SLAPolicy.objects.get_or_create(
        name=name, defaults={"description": "Plans × priorities, first match wins"}
    )
    if created:
        SLAPolicy.objects.exclude(pk=policy.pk).update(is_active=False)
        order = 10
        for code, by_priority in TARGETS.items():
            for priority, (frt, nrt, ttr, mode) in by_priority.items():
                SLARule.objects.create(
                    policy=policy,
                    order=order,
                    name=f"{plans[code].name} {priority}",
                    plan=plans[code],
                    priority=priority,
                    first_response_minutes=frt,
                    next_response_minutes=nrt,
                    resolution_minutes=ttr,
                    calendar_mode=mode,
                    pause_on_hold=(code in ("standard", "developer")),
                )
                order += 10
        policy.is_active = True
        policy.save()
    from .engine import forget_rules

    forget_rules()
    return policy
