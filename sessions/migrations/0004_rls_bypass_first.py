"""Row-level security: every policy tests the bypass first. Same rows allowed, far less work per statement.

PostgreSQL ORs a table's permissive policies, and `rls_bypass` (0003) came after the others in that OR. So a
statement under the bypass still built the others' sets of groups and sessions before reaching it; and the
membership functions of 0003 run their own queries under the bypass, so every call paid for those sets too:
one write check (`app_is_own_member_participant`) cost 0.33 ms. With `app_rls_bypassed() OR ...` at the head
of each policy, OR's left-to-right evaluation stops at the first test whenever the bypass is on. Rows
allowed are unchanged: the bypass already allowed everything through `rls_bypass`, which stays (some
commands have no other policy).
"""

import importlib

from django.db import migrations

rls = importlib.import_module("sessions.migrations.0003_row_level_security")

BYPASS_FIRST = "app_rls_bypassed() OR "


def _alter_sql(table: str, policy: str, using: str | None, check: str | None, *, prefix: str) -> str:
    sql = f"ALTER POLICY rls_{policy} ON {table}"
    if using:
        sql += f" USING ({prefix}({using}))"
    if check:
        sql += f" WITH CHECK ({prefix}({check}))"
    return sql


def _alter_all(schema_editor, *, prefix: str) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    for table, policy, _command, using, check in rls.POLICIES:
        schema_editor.execute(_alter_sql(table, policy, using, check, prefix=prefix))


def bypass_first(apps, schema_editor):
    _alter_all(schema_editor, prefix=BYPASS_FIRST)


def bypass_last(apps, schema_editor):
    _alter_all(schema_editor, prefix="")


class Migration(migrations.Migration):
    dependencies = [("group_sessions", "0003_row_level_security")]

    operations = [migrations.RunPython(bypass_first, bypass_last, elidable=False)]
