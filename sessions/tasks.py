"""Celery tasks: thin callers of sessions.services. (Stub: the Celery work fills these in.)

The services call these hooks after commit; until Celery is wired they do nothing, which is safe because
the status the world sees is derived from stored times.
"""


def schedule_session_timers(session_id: int) -> None:
    """Queue the opening (and reminder / closing) of a scheduled session for its time."""


def announce_session_opened(session_id: int) -> None:
    """Email every member the join link, once per member."""


def announce_session_completed(session_id: int) -> None:
    """Email the creator the results, once."""
