"""Row-level security: who the database thinks is asking (issue #8).

PostgreSQL policies on the group and session tables (sessions/migrations/0002_row_level_security.py) key
on two settings of the database session:

- `app.user_id`: the signed-in person; set for each request once their identity is known (cookie session:
  `RowLevelSecurityMiddleware`; `Authorization: Token`: accounts.authentication, in the token's own query),
  and reset in a `finally` when the request ends, so nothing survives into the next request on a
  persistent connection (CONN_MAX_AGE).
- `app.rls_bypass = 'on'`: trusted contexts that act for no one or for everyone (Celery tasks, the admin
  for staff, seed_demo, looking up an invite link before the person is a member). Only `rls_bypass(reason)`
  sets it, logs the reason (logger `quizsite.rls`) and resets it in a `finally`.

Neither setting is a secret: code that can run arbitrary SQL as the application's role can set them. The
policies are a second wall behind `groups.permissions` against a view that forgot its check, not against
SQL injection.

What is set is tracked on the connection object (Django keeps one per thread), so a reset is only sent when
something was set, and nested scopes restore what the outer one had. Everything here is a no-op on SQLite.
"""

import logging
from contextlib import contextmanager
from dataclasses import dataclass

from django.db import DatabaseError, connection

logger = logging.getLogger("quizsite.rls")

USER_SETTING = "app.user_id"
BYPASS_SETTING = "app.rls_bypass"


@dataclass
class _State:
    raw: object = None
    """The driver connection these settings live on: a new one (reconnect, health check) starts clean."""
    user_id: int | None = None
    bypass: int = 0
    """Depth of nested `rls_bypass` blocks; the setting is on while it is above 0."""


def enabled() -> bool:
    return connection.vendor == "postgresql"


def _state() -> _State:
    """What is set on the current database session. Fetch it again after running SQL: running SQL may
    have replaced the session (Django reconnects when a health check fails)."""
    raw = connection.connection
    state = getattr(connection, "_rls_state", None)
    if state is None or state.raw is not raw:
        state = connection._rls_state = _State(raw=raw)
    return state


def current_user_id() -> int | None:
    """The user the database session acts for, as far as this process set it."""
    return _state().user_id


def bypassed() -> bool:
    return _state().bypass > 0


def _execute(sql: str, params: list) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def _apply(*, user_id: int | None, bypass: bool) -> None:
    """Make the database session's two settings these, in one round trip."""
    _execute(
        f"SELECT set_config('{USER_SETTING}', %s, false), set_config('{BYPASS_SETTING}', %s, false)",
        ["" if user_id is None else str(user_id), "on" if bypass else ""],
    )


def _reset_or_close() -> None:
    """Clear both settings; if the connection cannot answer, close it so the settings die with it."""
    try:
        _apply(user_id=None, bypass=False)
    except DatabaseError:
        logger.warning("Could not reset the row-level security settings; closing the connection", exc_info=True)
        connection.close()
    state = _state()
    state.user_id, state.bypass = None, 0


def set_user(user_id: int | None) -> None:
    """Act as `user_id` (None: as nobody) from now until the scope that owns the connection resets it."""
    if not enabled() or _state().user_id == user_id:
        return
    _execute(f"SELECT set_config('{USER_SETTING}', %s, false)", ["" if user_id is None else str(user_id)])
    _state().user_id = user_id


def set_user_column(user_id_column: str) -> str:
    """A select-list column that sets `app.user_id` to `user_id_column` as the row is read: a query that
    loads the user anyway (the API token's) tells the database who is asking with no round trip of its
    own. Call `note_user_set` once a row came back."""
    return f"set_config('{USER_SETTING}', ({user_id_column})::text, false)"


def note_user_set(user_id: int) -> None:
    """Record that a query with `set_user_column` set `app.user_id` to `user_id`."""
    _state().user_id = user_id


@contextmanager
def rls_bypass(reason: str):
    """Let the block read and write every row of the protected tables; logged with `reason`.

    For trusted contexts only: tasks, the admin for staff, management commands, and the few reads that must
    happen before a person has a membership (an invite link). Reset in `finally`, also on errors.
    """
    if not enabled():
        yield
        return
    logger.info("row-level security bypass: %s", reason)
    if _state().bypass == 0:
        _execute(f"SELECT set_config('{BYPASS_SETTING}', 'on', false)", [])
    _state().bypass += 1
    try:
        yield
    finally:
        state = _state()
        state.bypass = max(state.bypass - 1, 0)
        if state.bypass == 0:
            try:
                _execute(f"SELECT set_config('{BYPASS_SETTING}', '', false)", [])
            except DatabaseError:
                logger.warning("Could not end the row-level security bypass; closing the connection", exc_info=True)
                connection.close()


@contextmanager
def scope(user_id: int | None = None):
    """A unit of work that owns the connection's settings: a request, a thread of a test, a script.

    Optionally acts as `user_id`, and resets whatever it set in a `finally` (nothing set: no round trip).
    Scopes nest only in tests (a request made by test code that holds the bypass for its fixtures): the
    enclosing scope's settings are suspended for the inner one and restored after it, with statements
    sent past Django's query log, so the query counts the suite pins are those of production.
    """
    if not enabled():
        yield
        return
    state = _state()
    outer = (state.user_id, state.bypass)
    if outer != (None, 0):
        _apply_unlogged(user_id=None, bypass=False)
        state.user_id, state.bypass = None, 0
    connection._rls_scopes = in_scope() + 1
    try:
        if user_id is not None:
            set_user(user_id)
        yield
    finally:
        connection._rls_scopes -= 1
        state = _state()
        if (state.user_id, state.bypass) != (None, 0):
            _reset_or_close()
        if outer != (None, 0) and connection.connection is not None:
            _apply_unlogged(user_id=outer[0], bypass=outer[1] > 0)
            state = _state()
            state.user_id, state.bypass = outer


def in_scope() -> int:
    """How many `scope` blocks (requests) the current thread's connection is inside."""
    return getattr(connection, "_rls_scopes", 0)


def _apply_unlogged(*, user_id: int | None, bypass: bool) -> None:
    connection.ensure_connection()
    with connection.connection.cursor() as cursor:
        cursor.execute(
            f"SELECT set_config('{USER_SETTING}', %s, false), set_config('{BYPASS_SETTING}', %s, false)",
            ["" if user_id is None else str(user_id), "on" if bypass else ""],
        )


@contextmanager
def as_user(user):
    """Run the block as `user` (None or anonymous: as nobody), in a scope of its own."""
    user_id = user.pk if user is not None and user.is_authenticated else None
    with scope(user_id):
        yield
