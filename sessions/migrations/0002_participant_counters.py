"""Participant counters on the session, kept true by triggers on the participant table (and orderings
that do not join).

Triggers rather than application code, so that every path that writes participants counts: the
services, the admin, cascading deletes, bulk loads (the benchmark seed), a psql session. PostgreSQL
counts inserts and deletes once per statement (transition tables), so a bulk insert of 10,000 rows
updates the session once; updates count per row, and only when a row's session or its
finished/unfinished state changes. SQLite (development) gets the same rules as row triggers.

SQLite caveat: Django rebuilds a SQLite table to alter it, which drops its triggers; a later migration
that alters the participant table must create them again on SQLite (`create_triggers` below).
"""

from django.db import migrations, models

SESSION = "group_sessions_groupsession"
PARTICIPANT = "group_sessions_participant"


def _statement_count_function(rows: str, sign: str) -> str:
    """Add (+) or take away (-) the rows of a statement's transition table `rows`, per session."""
    return f"""
CREATE FUNCTION group_sessions_count_{rows}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE {SESSION} AS s
       SET participant_count = s.participant_count {sign} d.joined,
           completed_count = s.completed_count {sign} d.finished
      FROM (SELECT session_id, count(*) AS joined, count(completed_at) AS finished
              FROM {rows} GROUP BY session_id) AS d
     WHERE s.id = d.session_id;
    RETURN NULL;
END $$;
"""


POSTGRESQL_CREATE = (
    _statement_count_function("inserted", "+")
    + _statement_count_function("deleted", "-")
    + f"""
CREATE FUNCTION group_sessions_count_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.session_id = NEW.session_id THEN
        -- A submission: one new version of the session row, not two.
        UPDATE {SESSION}
           SET completed_count = completed_count
                                 + (NEW.completed_at IS NOT NULL)::int - (OLD.completed_at IS NOT NULL)::int
         WHERE id = NEW.session_id;
    ELSE
        UPDATE {SESSION}
           SET participant_count = participant_count - 1,
               completed_count = completed_count - (OLD.completed_at IS NOT NULL)::int
         WHERE id = OLD.session_id;
        UPDATE {SESSION}
           SET participant_count = participant_count + 1,
               completed_count = completed_count + (NEW.completed_at IS NOT NULL)::int
         WHERE id = NEW.session_id;
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER participant_counts_insert AFTER INSERT ON {PARTICIPANT}
    REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT EXECUTE FUNCTION group_sessions_count_inserted();
CREATE TRIGGER participant_counts_delete AFTER DELETE ON {PARTICIPANT}
    REFERENCING OLD TABLE AS deleted FOR EACH STATEMENT EXECUTE FUNCTION group_sessions_count_deleted();
-- Saving a score rewrites completed_at with its old value too: the WHEN clause skips those rows
-- without calling the function.
CREATE TRIGGER participant_counts_update AFTER UPDATE OF session_id, completed_at ON {PARTICIPANT}
    FOR EACH ROW
    WHEN (OLD.session_id IS DISTINCT FROM NEW.session_id
          OR (OLD.completed_at IS NULL) IS DISTINCT FROM (NEW.completed_at IS NULL))
    EXECUTE FUNCTION group_sessions_count_updated();
"""
)

POSTGRESQL_DROP = f"""
DROP TRIGGER IF EXISTS participant_counts_insert ON {PARTICIPANT};
DROP TRIGGER IF EXISTS participant_counts_delete ON {PARTICIPANT};
DROP TRIGGER IF EXISTS participant_counts_update ON {PARTICIPANT};
DROP FUNCTION IF EXISTS group_sessions_count_inserted();
DROP FUNCTION IF EXISTS group_sessions_count_deleted();
DROP FUNCTION IF EXISTS group_sessions_count_updated();
"""

SQLITE_CREATE = [
    f"""CREATE TRIGGER participant_counts_insert AFTER INSERT ON {PARTICIPANT} BEGIN
        UPDATE {SESSION} SET participant_count = participant_count + 1,
            completed_count = completed_count + (NEW.completed_at IS NOT NULL) WHERE id = NEW.session_id;
    END""",
    f"""CREATE TRIGGER participant_counts_delete AFTER DELETE ON {PARTICIPANT} BEGIN
        UPDATE {SESSION} SET participant_count = participant_count - 1,
            completed_count = completed_count - (OLD.completed_at IS NOT NULL) WHERE id = OLD.session_id;
    END""",
    f"""CREATE TRIGGER participant_counts_update AFTER UPDATE OF session_id, completed_at ON {PARTICIPANT}
        WHEN OLD.session_id IS NOT NEW.session_id OR (OLD.completed_at IS NULL) IS NOT (NEW.completed_at IS NULL)
    BEGIN
        UPDATE {SESSION} SET participant_count = participant_count - 1,
            completed_count = completed_count - (OLD.completed_at IS NOT NULL) WHERE id = OLD.session_id;
        UPDATE {SESSION} SET participant_count = participant_count + 1,
            completed_count = completed_count + (NEW.completed_at IS NOT NULL) WHERE id = NEW.session_id;
    END""",
]

SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS participant_counts_insert",
    "DROP TRIGGER IF EXISTS participant_counts_delete",
    "DROP TRIGGER IF EXISTS participant_counts_update",
]

BACKFILL = f"""
UPDATE {SESSION} SET
    participant_count = (SELECT count(*) FROM {PARTICIPANT} p WHERE p.session_id = {SESSION}.id),
    completed_count = (SELECT count(p.completed_at) FROM {PARTICIPANT} p WHERE p.session_id = {SESSION}.id)
"""


def create_triggers(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(POSTGRESQL_CREATE, params=None)  # several statements: no params
    elif vendor == "sqlite":
        for statement in SQLITE_CREATE:
            schema_editor.execute(statement)
    else:
        raise NotImplementedError(f"participant counters have no triggers for {vendor}")
    schema_editor.execute(BACKFILL)


def drop_triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRESQL_DROP, params=None)
    else:
        for statement in SQLITE_DROP:
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [
        ("group_sessions", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="groupsession",
            name="participant_count",
            field=models.PositiveIntegerField(default=0, editable=False),
        ),
        migrations.AddField(
            model_name="groupsession",
            name="completed_count",
            field=models.PositiveIntegerField(default=0, editable=False),
        ),
        migrations.RunPython(create_triggers, drop_triggers),
        # Ordering by the columns rather than the relations spares a join of two tables on every read.
        migrations.AlterModelOptions(name="participant", options={"ordering": ["session_id", "joined_at", "id"]}),
        migrations.AlterModelOptions(name="participantround", options={"ordering": ["participant_id", "round"]}),
    ]
