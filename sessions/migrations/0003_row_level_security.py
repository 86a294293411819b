"""Row-level security on the group and session tables (issue #8): a second wall behind groups.permissions.

PostgreSQL only (a no-op elsewhere). Every table below gets ENABLE and FORCE ROW LEVEL SECURITY (FORCE: the
application's role owns the tables, and owners are otherwise exempt) and policies keyed on two settings of
the database session that quizsite.rls manages:

- `app.user_id`: the person the request or task acts for (unset or '': nobody, who sees nothing);
- `app.rls_bypass = 'on'`: a trusted context (tasks, admin for staff, seed_demo), set only by
  `quizsite.rls.rls_bypass(reason)`, which logs why.

Who may do what mirrors groups.permissions: members read their groups' rows; managers (owner, admin) edit
their groups, members and sessions; a session's creator edits it; members write only their own participant
rows and rounds; deleting a session (managers) may delete its participants, rounds and notifications, which
Django cascades row by row.

Speed: membership lookups live in SECURITY DEFINER functions that switch the bypass on for their body (so
they read memberships without recursing into these policies). Policies test `column IN (SELECT function())`, which
PostgreSQL evaluates once per statement as a hashed subplan, never once per row; own rows are tested first
(`user_id = app_user_id() OR ...`) so the common "my own row" reads never build the set. Per-row functions
appear only in write checks, which touch one row.
"""

from django.db import migrations

TABLES = [
    "groups_group",
    "groups_membership",
    "group_sessions_groupsession",
    "group_sessions_participant",
    "group_sessions_participantround",
    "group_sessions_sessionnotification",
]

# (name, signature, returns, body). Every one is STABLE (one snapshot per statement).
FUNCTIONS = [
    # Plain SQL, inlined into the policies.
    ("app_user_id", "()", "bigint", "SELECT NULLIF(current_setting('app.user_id', true), '')::bigint", False),
    ("app_rls_bypassed", "()", "boolean", "SELECT coalesce(current_setting('app.rls_bypass', true), '') = 'on'", False),
    # SECURITY DEFINER, bypass on: read memberships without applying the policies to themselves.
    (
        "app_member_group_ids",
        "()",
        "SETOF bigint",
        "SELECT group_id FROM groups_membership WHERE user_id = app_user_id()",
        True,
    ),
    (
        "app_managed_group_ids",
        "()",
        "SETOF bigint",
        "SELECT group_id FROM groups_membership WHERE user_id = app_user_id() AND role IN ('owner', 'admin')",
        True,
    ),
    (
        "app_owned_group_ids",
        "()",
        "SETOF bigint",
        "SELECT group_id FROM groups_membership WHERE user_id = app_user_id() AND role = 'owner'",
        True,
    ),
    (
        # groups.permissions: managers always, members when the group lets them.
        "app_session_creator_group_ids",
        "()",
        "SETOF bigint",
        "SELECT m.group_id FROM groups_membership m JOIN groups_group g ON g.id = m.group_id "
        "WHERE m.user_id = app_user_id() AND (m.role IN ('owner', 'admin') OR g.members_can_create_sessions)",
        True,
    ),
    (
        "app_member_session_ids",
        "()",
        "SETOF bigint",
        "SELECT s.id FROM group_sessions_groupsession s WHERE s.group_id IN "
        "(SELECT group_id FROM groups_membership WHERE user_id = app_user_id())",
        True,
    ),
    (
        "app_managed_session_ids",
        "()",
        "SETOF bigint",
        "SELECT s.id FROM group_sessions_groupsession s WHERE s.group_id IN "
        "(SELECT group_id FROM groups_membership WHERE user_id = app_user_id() AND role IN ('owner', 'admin'))",
        True,
    ),
    (
        "app_own_participant_ids",
        "()",
        "SETOF bigint",
        "SELECT id FROM group_sessions_participant WHERE user_id = app_user_id()",
        True,
    ),
    (
        # Write checks of a single row: is the current user a member of this session's group?
        "app_is_session_member",
        "(session bigint)",
        "boolean",
        "SELECT EXISTS (SELECT 1 FROM group_sessions_groupsession s "
        "JOIN groups_membership m ON m.group_id = s.group_id AND m.user_id = app_user_id() WHERE s.id = session)",
        True,
    ),
    (
        "app_is_own_member_participant",
        "(participant bigint)",
        "boolean",
        "SELECT EXISTS (SELECT 1 FROM group_sessions_participant p "
        "JOIN group_sessions_groupsession s ON s.id = p.session_id "
        "JOIN groups_membership m ON m.group_id = s.group_id AND m.user_id = p.user_id "
        "WHERE p.id = participant AND p.user_id = app_user_id())",
        True,
    ),
    (
        # The INSERT of a group is checked against its read policy (RETURNING) before any membership exists;
        # the row being inserted is not visible to a function, so this asks only about memberships.
        "app_group_has_no_members",
        "(grp bigint)",
        "boolean",
        "SELECT NOT EXISTS (SELECT 1 FROM groups_membership WHERE group_id = grp)",
        True,
    ),
    (
        # A group its creator has just inserted, before their owner membership exists (groups.services).
        "app_is_new_own_group",
        "(grp bigint)",
        "boolean",
        "SELECT EXISTS (SELECT 1 FROM groups_group g WHERE g.id = grp AND g.created_by_id = app_user_id()) "
        "AND NOT EXISTS (SELECT 1 FROM groups_membership WHERE group_id = grp)",
        True,
    ),
]

MEMBER_GROUPS = "(SELECT app_member_group_ids())"
MANAGED_GROUPS = "(SELECT app_managed_group_ids())"
OWNED_GROUPS = "(SELECT app_owned_group_ids())"
MEMBER_SESSIONS = "(SELECT app_member_session_ids())"
MANAGED_SESSIONS = "(SELECT app_managed_session_ids())"
ME = "app_user_id()"

# (table, policy, command, USING, WITH CHECK); every table also has `rls_bypass` for trusted contexts; names get an `rls_` prefix.
POLICIES = [
    # Groups: members read; the creator reads the group they just made until their membership exists.
    ("groups_group", "read", "SELECT", f"id IN {MEMBER_GROUPS} OR (created_by_id = {ME} AND app_group_has_no_members(id))", None),
    ("groups_group", "create", "INSERT", None, f"created_by_id = {ME}"),
    # USING is every member: SELECT ... FOR UPDATE (groups.services locks the group) checks it.
    ("groups_group", "edit", "UPDATE", f"id IN {MEMBER_GROUPS}", f"id IN {MANAGED_GROUPS}"),
    ("groups_group", "delete", "DELETE", f"id IN {OWNED_GROUPS}", None),
    # Memberships: one's own and one's groups'; managers add and remove members, owners handle managers.
    ("groups_membership", "read", "SELECT", f"user_id = {ME} OR group_id IN {MEMBER_GROUPS}", None),
    (
        "groups_membership",
        "add",
        "INSERT",
        None,
        f"(group_id IN {MANAGED_GROUPS} AND (role = 'member' OR group_id IN {OWNED_GROUPS})) "
        f"OR (user_id = {ME} AND role = 'owner' AND app_is_new_own_group(group_id))",
    ),
    (
        "groups_membership",
        "change_role",
        "UPDATE",
        f"group_id IN {OWNED_GROUPS} OR (role = 'member' AND group_id IN {MANAGED_GROUPS})",
        f"group_id IN {OWNED_GROUPS} OR (role = 'member' AND group_id IN {MANAGED_GROUPS})",
    ),
    (
        "groups_membership",
        "remove",
        "DELETE",
        f"user_id = {ME} OR group_id IN {OWNED_GROUPS} OR (role <> 'owner' AND group_id IN {MANAGED_GROUPS})",
        None,
    ),
    # Sessions: members read (and lock: joining and submitting hold the row FOR KEY SHARE); creating follows
    # the group's setting; managers and the creator edit; managers delete.
    ("group_sessions_groupsession", "read", "SELECT", f"group_id IN {MEMBER_GROUPS}", None),
    (
        "group_sessions_groupsession",
        "create",
        "INSERT",
        None,
        f"created_by_id = {ME} AND group_id IN (SELECT app_session_creator_group_ids())",
    ),
    (
        # pg_trigger_depth() > 0: the participant counters (0002) are kept by triggers that run as the
        # member who joins or submits; only migrations define triggers, so their writes are trusted.
        "group_sessions_groupsession",
        "edit",
        "UPDATE",
        f"group_id IN {MEMBER_GROUPS}",
        # The trigger test first: OR is evaluated left to right, and every join and submission passes here
        # through a trigger, which then never builds the sets of groups.
        f"pg_trigger_depth() > 0 OR group_id IN {MANAGED_GROUPS} "
        f"OR (created_by_id = {ME} AND group_id IN {MEMBER_GROUPS})",
    ),
    ("group_sessions_groupsession", "delete", "DELETE", f"group_id IN {MANAGED_GROUPS}", None),
    # Participants: one's own rows, and every row of one's groups' sessions (the counts every member sees
    # are computed from them); members write only their own row in a session of their group.
    ("group_sessions_participant", "read", "SELECT", f"user_id = {ME} OR session_id IN {MEMBER_SESSIONS}", None),
    (
        "group_sessions_participant",
        "join",
        "INSERT",
        None,
        f"user_id = {ME} AND app_is_session_member(session_id)",
    ),
    (
        "group_sessions_participant",
        "submit",
        "UPDATE",
        f"user_id = {ME} AND app_is_session_member(session_id)",
        f"user_id = {ME} AND app_is_session_member(session_id)",
    ),
    ("group_sessions_participant", "delete", "DELETE", f"session_id IN {MANAGED_SESSIONS}", None),
    # Rounds: as their participant row.
    (
        "group_sessions_participantround",
        "read",
        "SELECT",
        "participant_id IN (SELECT app_own_participant_ids()) "
        "OR EXISTS (SELECT 1 FROM group_sessions_participant p WHERE p.id = participant_id)",
        None,
    ),
    ("group_sessions_participantround", "submit", "INSERT", None, "app_is_own_member_participant(participant_id)"),
    (
        "group_sessions_participantround",
        "edit",
        "UPDATE",
        "app_is_own_member_participant(participant_id)",
        "app_is_own_member_participant(participant_id)",
    ),
    (
        "group_sessions_participantround",
        "delete",
        "DELETE",
        "EXISTS (SELECT 1 FROM group_sessions_participant p "
        f"WHERE p.id = participant_id AND p.session_id IN {MANAGED_SESSIONS})",
        None,
    ),
    # Notifications are written by tasks only (bypass); managers delete them with their session.
    (
        "group_sessions_sessionnotification",
        "read",
        "SELECT",
        f"user_id = {ME} OR session_id IN {MANAGED_SESSIONS}",
        None,
    ),
    ("group_sessions_sessionnotification", "delete", "DELETE", f"session_id IN {MANAGED_SESSIONS}", None),
]


def _function_sql(schema: str, name: str, signature: str, returns: str, body: str, definer: bool) -> str:
    head = f"CREATE OR REPLACE FUNCTION {name}{signature} RETURNS {returns}"
    if not definer:
        return f"{head} LANGUAGE sql STABLE PARALLEL SAFE AS $fn$ {body} $fn$"
    # The bypass is switched on for the body and back to what it was: a function-level `SET app.rls_bypass`
    # would be simpler, but PostgreSQL 15 lets only superusers (or GRANT SET ON PARAMETER) put a custom
    # setting there. set_config(..., true) lasts at most to the end of the transaction, and an error aborts
    # that, so the bypass cannot outlive the call. search_path is pinned, as for any SECURITY DEFINER.
    if returns.startswith("SETOF"):
        run = f"RETURN QUERY {body};"
        finish = "RETURN;"
    else:
        run = f"result := ({body});"
        finish = "RETURN result;"
    return f"""{head} LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = {schema}, pg_temp AS $fn$
DECLARE
    previous text := coalesce(current_setting('app.rls_bypass', true), '');
    result {returns.removeprefix("SETOF ")};
BEGIN
    PERFORM set_config('app.rls_bypass', 'on', true);
    {run}
    PERFORM set_config('app.rls_bypass', previous, true);
    {finish}
END
$fn$"""


def _policy_sql(table: str, policy: str, command: str, using: str | None, check: str | None) -> str:
    sql = f"CREATE POLICY rls_{policy} ON {table} FOR {command}"
    if using:
        sql += f" USING ({using})"
    if check:
        sql += f" WITH CHECK ({check})"
    return sql


def enable(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT quote_ident(current_schema())")
        schema = cursor.fetchone()[0]
    for name, signature, returns, body, definer in FUNCTIONS:
        schema_editor.execute(_function_sql(schema, name, signature, returns, body, definer))
    for table in TABLES:
        schema_editor.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        schema_editor.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
        schema_editor.execute(
            f"CREATE POLICY rls_bypass ON {table} FOR ALL USING (app_rls_bypassed()) WITH CHECK (app_rls_bypassed())"
        )
    for policy in POLICIES:
        schema_editor.execute(_policy_sql(*policy))


def disable(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table, policy, *_ in POLICIES:
        schema_editor.execute(f"DROP POLICY IF EXISTS rls_{policy} ON {table}")
    for table in TABLES:
        schema_editor.execute(f"DROP POLICY IF EXISTS rls_bypass ON {table}")
        schema_editor.execute(f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY")
        schema_editor.execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")
    for name, signature, *_ in reversed(FUNCTIONS):
        schema_editor.execute(f"DROP FUNCTION IF EXISTS {name}{signature}")


class Migration(migrations.Migration):
    dependencies = [
        ("groups", "0001_initial"),
        ("group_sessions", "0002_participant_counters"),
    ]

    operations = [migrations.RunPython(enable, disable, elidable=False)]
