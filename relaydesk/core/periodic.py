"""Periodic sweeps other capabilities add to the worker's tick (handover, escalation, detection…).

Register in your ``AppConfig.ready()``::

    from relaydesk.core import periodic
    periodic.register("routing_handover", handover_sweep)

Each function takes no arguments, must be safe to run in several workers at once, and returns
something small and JSON-friendly that the worker logs (a count, a dict of counts).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

_SWEEPS: dict[str, Callable[[], Any]] = {}


def register(name: str, fn: Callable[[], Any]) -> None:
    _SWEEPS[name] = fn


def registered() -> dict[str, Callable[[], Any]]:
    return dict(_SWEEPS)
