"""Model instances from hand-written SQL, for the few reads on the hottest paths.

Building and compiling an ORM query costs about 1 ms of CPU on the benchmark machine, three times the
round trip to PostgreSQL, and the join and the submit make several reads per request; so the reads they
always make are written in SQL once (numbers in the README's benchmark section). What comes back are
ordinary model instances, filled the way the ORM fills them (`Model.from_db`, the fields' database
converters); fields not selected are deferred and load on first access, as with `.only()`.

`insert`/`update` write the same way: the SQL of `create()` and `save(update_fields=...)`, values prepared
by the fields, for the submit's one write statement. They send no signals (nothing here listens).
"""

from functools import cache

from django.db import connection
from django.db.models import Model


def field_names(model: type[Model], fields: tuple[str, ...] | None = None) -> tuple[str, ...]:
    """`fields` (attribute names such as `group_id`), or every concrete field of `model`."""
    return fields or tuple(field.attname for field in model._meta.concrete_fields)


@cache
def select_list(model: type[Model], alias: str, fields: tuple[str, ...] | None = None) -> str:
    """`alias."column", ...`: the columns of `field_names(model, fields)`, in that order."""
    quote = connection.ops.quote_name
    columns = (model._meta.get_field(name).column for name in field_names(model, fields))
    return ", ".join(f"{alias}.{quote(column)}" for column in columns)


@cache
def _converters(model: type[Model], fields: tuple[str, ...] | None) -> tuple:
    found = []
    for index, name in enumerate(field_names(model, fields)):
        field = model._meta.get_field(name)
        found += [(index, field, converter) for converter in field.get_db_converters(connection)]
    return tuple(found)


def instance(model: type[Model], values, fields: tuple[str, ...] | None = None) -> Model:
    """A `model` instance from a row's `values`, in the order of `select_list(model, _, fields)`."""
    values = list(values)
    for index, field, converter in _converters(model, fields):
        values[index] = converter(values[index], field, connection)
    return model.from_db(connection.alias, list(field_names(model, fields)), values)


def _prepared(obj: Model, fields: tuple[str, ...]) -> tuple[list[str], list]:
    quote = connection.ops.quote_name
    columns, params = [], []
    for name in fields:
        field = obj._meta.get_field(name)
        columns.append(quote(field.column))
        params.append(field.get_db_prep_save(getattr(obj, field.attname), connection))
    return columns, params


def insert(obj: Model, fields: tuple[str, ...]) -> tuple[str, list]:
    """`INSERT INTO … VALUES …` of `obj`'s `fields` (attribute names), values prepared as the ORM would."""
    columns, params = _prepared(obj, fields)
    placeholders = ", ".join(["%s"] * len(columns))
    return f"INSERT INTO {obj._meta.db_table} ({', '.join(columns)}) VALUES ({placeholders})", params


def update(obj: Model, fields: tuple[str, ...]) -> tuple[str, list]:
    """`UPDATE … SET … WHERE pk = …` of `obj`'s `fields`, as `obj.save(update_fields=fields)` would write."""
    columns, params = _prepared(obj, fields)
    assignments = ", ".join(f"{column} = %s" for column in columns)
    pk_column = connection.ops.quote_name(obj._meta.pk.column)
    return f"UPDATE {obj._meta.db_table} SET {assignments} WHERE {pk_column} = %s", [*params, obj.pk]


def mark_saved(obj: Model) -> Model:
    """`obj`, written by hand-written SQL, marked as loaded from the database (as `from_db` marks rows)."""
    obj._state.adding = False
    obj._state.db = connection.alias
    return obj
