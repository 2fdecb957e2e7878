"""A lean INSERT for the hot write paths (ticket create, replies, clock events, outbox).

``Model.save()`` and ``bulk_create()`` compile their SQL afresh on every call; on a ticket
create that compilation was a third of the request's CPU. ``insert`` builds the statement once
per (model, database) and reuses it, converting values with each field's own
``pre_save``/``get_db_prep_save`` — the same conversions the ORM applies — so what lands in
the database is identical. Like ``bulk_create`` it sends no ``pre_save``/``post_save``
signals and does not call ``Model.save()``; use it only for append-only rows whose models
have no save-time behaviour beyond their fields (see tests/test_fastsql.py and ADR 0012).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from django.db import connections, router
from django.db.models import (
    AutoField,
    BigAutoField,
    BigIntegerField,
    BooleanField,
    CharField,
    Field,
    ForeignKey,
    IntegerField,
    Model,
    PositiveIntegerField,
    PositiveSmallIntegerField,
    SmallIntegerField,
    TextField,
)

_SQL: dict[tuple[type[Model], str, int], tuple[str, list[Field[Any, Any]], Field[Any, Any]]] = {}

# Field classes (exactly these, not subclasses) whose ``pre_save`` just reads the attribute and
# whose database conversion leaves a value of this Python type unchanged on every backend.
# Any other value (an expression, a lazy string, a Decimal for an integer …) takes the ORM's
# own conversion, so the result is always what ``save()`` would have written.
_PLAIN: dict[type[Field[Any, Any]], type | tuple[type, ...]] = {
    CharField: str,
    TextField: str,
    IntegerField: int,
    BigIntegerField: int,
    SmallIntegerField: int,
    PositiveIntegerField: int,
    PositiveSmallIntegerField: int,
    BooleanField: bool,
}
_INT_KEYS = (AutoField, BigAutoField, IntegerField, BigIntegerField)
_MISSING = object()
_CONVERTERS: dict[tuple[type[Model], str], list[Callable[[Model], Any]]] = {}


def _converter(f: Field[Any, Any], alias: str) -> Callable[[Model], Any]:
    conn = connections[alias]
    attname = f.attname

    def orm(obj: Model) -> Any:
        return f.get_db_prep_save(f.pre_save(obj, True), connection=conn)

    plain: type | tuple[type, ...] | None = _PLAIN.get(type(f))
    if type(f) is ForeignKey and type(f.target_field) in _INT_KEYS:
        plain = int
    if plain is None:
        return orm
    # bool is a subclass of int: an integer column given True goes through the ORM.
    exact = plain

    def fast(obj: Model) -> Any:
        value = obj.__dict__.get(attname, _MISSING)
        if value is None or type(value) is exact:
            return value
        return orm(obj)  # a deferred attribute, an expression, a lazy string …

    return fast


def _converters(model: type[Model], alias: str, fields: list[Field[Any, Any]]) -> list[Callable[[Model], Any]]:
    key = (model, alias)
    found = _CONVERTERS.get(key)
    if found is None:
        found = [_converter(f, alias) for f in fields]
        _CONVERTERS[key] = found
    return found


def _statement(model: type[Model], alias: str, rows: int) -> tuple[str, list[Field[Any, Any]], Field[Any, Any]]:
    key = (model, alias, rows)
    found = _SQL.get(key)
    if found is not None:
        return found
    conn = connections[alias]
    opts = model._meta
    pk = opts.pk
    assert pk is not None
    fields = [f for f in opts.concrete_fields if not f.primary_key and not getattr(f, "generated", False)]
    qn = conn.ops.quote_name
    cols = ", ".join(qn(f.column) for f in fields)
    one = "(" + ", ".join(["%s"] * len(fields)) + ")"
    # Only quoted identifiers from the model's metadata and %s placeholders go into the text.
    sql = (
        f"INSERT INTO {qn(opts.db_table)} ({cols}) VALUES "  # noqa: S608
        + ", ".join([one] * rows)
        + f" RETURNING {qn(pk.column)}"
    )
    found = (sql, fields, pk)
    if len(_SQL) < 512:
        _SQL[key] = found
    return found


CHUNK = 100


def insert(objs: Sequence[Model]) -> None:
    """INSERT unsaved instances of one model (one statement per 100) and set their primary keys."""
    for start in range(0, len(objs), CHUNK):
        _insert(objs[start : start + CHUNK])


def _insert(objs: Sequence[Model]) -> None:
    if not objs:
        return
    model = type(objs[0])
    alias = router.db_for_write(model)
    conn = connections[alias]
    sql, fields, pk = _statement(model, alias, len(objs))
    convert = _converters(model, alias, fields)
    params: list[Any] = []
    for obj in objs:
        if type(obj) is not model or obj.pk is not None:
            raise ValueError("insert() takes unsaved instances of one model")
        params.extend([c(obj) for c in convert])
    with conn.cursor() as cur:
        cur.execute(sql, params)
        ids = [r[0] for r in cur.fetchall()]
    for obj, pk_value in zip(objs, ids, strict=True):
        setattr(obj, pk.attname, pk_value)
        obj._state.adding = False
        obj._state.db = alias
