"""Model instances from hand-written SQL, for the few reads on the hottest paths.

Building and compiling an ORM query costs about 1 ms of CPU on the benchmark machine, three times the
round trip to PostgreSQL, and the join and the submit make several reads per request; so the reads they
always make are written in SQL once (numbers in the README's benchmark section). What comes back are
ordinary model instances, filled the way the ORM fills them (`Model.from_db`, the fields' database
converters); fields not selected are deferred and load on first access, as with `.only()`.
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
