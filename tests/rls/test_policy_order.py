"""Migration 0004: every policy tests the bypass first, so a statement under the bypass (every membership
function of 0003, every Celery task) stops there instead of building the other policies' sets first."""

import importlib

import pytest
from django.db import connection

from quizsite.rls import rls_bypass
from sessions.models import GroupSession
from tests.factories import GroupSessionFactory

pytestmark = [pytest.mark.rls, pytest.mark.django_db]

row_level_security = importlib.import_module("sessions.migrations.0003_row_level_security")
bypass_first = importlib.import_module("sessions.migrations.0004_rls_bypass_first")


def _policies() -> dict[tuple[str, str], tuple[str | None, str | None]]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname, p.polname, pg_get_expr(p.polqual, p.polrelid), pg_get_expr(p.polwithcheck, p.polrelid)"
            " FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid WHERE c.relname = ANY(%s)",
            [row_level_security.TABLES],
        )
        return {(table, name): (using, check) for table, name, using, check in cursor.fetchall()}


def test_every_policy_tests_the_bypass_before_anything_else():
    policies = _policies()

    assert len(policies) == len(row_level_security.POLICIES) + len(row_level_security.TABLES)
    for (table, name), expressions in policies.items():
        for expression in filter(None, expressions):
            assert expression.startswith("(app_rls_bypassed() OR") or expression == "app_rls_bypassed()", (
                table,
                name,
                expression,
            )


def _first_subplan_of_a_bypassed_session_read() -> str:
    """The node under the first SubPlan of the plan reading every session under the bypass (as user 1)."""
    with rls_bypass("test"):
        GroupSessionFactory()
    with rls_bypass("test"), connection.cursor() as cursor:
        cursor.execute("SELECT set_config('app.user_id', '1', false)")
        cursor.execute(f"EXPLAIN (ANALYZE, COSTS OFF) SELECT id FROM {GroupSession._meta.db_table}")
        plan = "\n".join(line for (line,) in cursor.fetchall())
        cursor.execute("SELECT set_config('app.user_id', '', false)")
    lines = [line.strip() for line in plan.splitlines()]
    return lines[next(i for i, line in enumerate(lines) if line.startswith("SubPlan")) + 1]


def test_a_bypassed_read_never_builds_the_set_of_the_callers_groups():
    subplan = _first_subplan_of_a_bypassed_session_read()

    assert subplan.startswith("->  ProjectSet")  # the read policy's set of groups is planned...
    assert subplan.endswith("(never executed)")  # ...and never built


def test_the_migration_reverses_to_the_policies_of_0003():
    before = _policies()

    with connection.schema_editor() as editor:
        bypass_first.bypass_last(None, editor)
        reverted = _policies()
        bypass_first.bypass_first(None, editor)

    assert _policies() == before
    for table, name, _command, using, check in row_level_security.POLICIES:
        assert [expression is not None for expression in reverted[(table, f"rls_{name}")]] == [bool(using), bool(check)]
        assert not any(
            expression.startswith("(app_rls_bypassed() OR")
            for expression in filter(None, reverted[(table, f"rls_{name}")])
        )


def test_without_the_migration_a_bypassed_read_built_that_set():
    with connection.schema_editor() as editor:
        bypass_first.bypass_last(None, editor)
        subplan = _first_subplan_of_a_bypassed_session_read()
        bypass_first.bypass_first(None, editor)

    assert subplan.startswith("->  ProjectSet")
    assert "(actual time=" in subplan
