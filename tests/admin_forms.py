"""Posting a Django admin change form the way a browser would: every field's current value
(as the form renders it), the inline management forms, and the changes on top."""

from __future__ import annotations

import json
from typing import Any

from django.test import Client


def change_form_data(client: Client, url: str, **changes: Any) -> dict[str, Any]:
    """What the admin change form at ``url`` posts back, with ``changes`` applied."""
    resp = client.get(url)
    assert resp.status_code == 200
    form = resp.context["adminform"].form
    data: dict[str, Any] = {}
    for name, field in form.fields.items():
        value = form[name].value()
        if value is None:
            continue  # an empty field posts nothing
        if isinstance(value, (list, tuple)) and name not in ("languages", "skills"):
            data[name] = [str(v) for v in value]  # a multiple choice
        elif len(getattr(field.widget, "widgets", ())) == 2 and hasattr(value, "strftime"):  # split date/time
            data[f"{name}_0"], data[f"{name}_1"] = value.strftime("%Y-%m-%d"), value.strftime("%H:%M:%S")
        else:
            data[name] = json.dumps(value) if isinstance(value, (list, dict)) else value
    for inline in resp.context["inline_admin_formsets"]:
        mgmt = inline.formset.management_form
        for name in mgmt.fields:
            data[f"{mgmt.prefix}-{name}"] = mgmt[name].value()
    data.update({k: str(v) for k, v in changes.items()})
    return data
