"""Results of a group session, as its page and its CSV exports read them.

Everything is counted by the database in a fixed number of queries, whatever the number of
participants: ranks with a window function, the joined/finished/average summary with one aggregate,
and per-question correct rates with one GROUP BY over the stored answers. Exports stream rows as the
database yields them, so a large session never sits whole in memory.

The order is the leaderboard's (`sessions.selectors.session_participants`: best score first, earliest
finisher first among equals); equal scores share a rank.
"""

import csv
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import connection
from django.db.models import Avg, Count, DurationField, ExpressionWrapper, F, Max, Q, QuerySet, Window
from django.db.models.functions import Rank
from django.http import StreamingHttpResponse

from .models import GroupSession, Participant
from .selectors import session_participants


def _time_taken():
    return ExpressionWrapper(F("completed_at") - F("joined_at"), output_field=DurationField())


def _rank():
    return Window(expression=Rank(), order_by=F("score").desc(nulls_last=True))


def format_duration(value: timedelta | None) -> str:
    """ "42 s", "3 min 05 s", "1 h 02 min": how long someone took, readable at a glance."""
    if value is None:
        return ""
    seconds = max(0, int(value.total_seconds()))
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def percent_of(score: int | None, total: int | None) -> int | None:
    return round(100 * score / total) if total and score is not None else None


@dataclass(frozen=True)
class ParticipantResult:
    participant: Participant
    rank: int | None
    """Place on the leaderboard; None until the participant has submitted."""

    @property
    def username(self) -> str:
        return self.participant.user.username

    @property
    def user_id(self) -> int:
        return self.participant.user_id

    @property
    def joined_at(self) -> datetime:
        return self.participant.joined_at

    @property
    def completed_at(self) -> datetime | None:
        return self.participant.completed_at

    @property
    def finished(self) -> bool:
        return self.participant.completed_at is not None

    @property
    def score(self) -> int | None:
        return self.participant.score

    @property
    def total(self) -> int | None:
        return self.participant.total

    @property
    def percent(self) -> int | None:
        return percent_of(self.score, self.total) if self.finished else None

    @property
    def mastered(self) -> bool:
        return self.participant.mastered

    @property
    def time_taken(self) -> timedelta | None:
        return getattr(self.participant, "time_taken", None)

    @property
    def time_taken_text(self) -> str:
        return format_duration(self.time_taken)


def _result(participant: Participant) -> ParticipantResult:
    return ParticipantResult(participant=participant, rank=participant.rank if participant.completed_at else None)


def participant_rows(*, session: GroupSession) -> QuerySet[Participant]:
    """Every participant in leaderboard order, annotated with `time_taken` and `rank`: one query."""
    return (
        session_participants(session=session)
        # The rounds of a study loop are not shown here: no reason to load them.
        .prefetch_related(None)
        .annotate(time_taken=_time_taken(), rank=_rank())
    )


def participant_results(*, session: GroupSession, offset: int = 0, limit: int | None = None) -> list[ParticipantResult]:
    """Participants in leaderboard order, `limit` of them from `offset` (ranks counted over everyone)."""
    rows = participant_rows(session=session)
    if limit is not None:
        rows = rows[offset : offset + limit]
    return [_result(p) for p in rows]


def leaderboard(*, session: GroupSession, limit: int | None = 10) -> list[ParticipantResult]:
    """Those who submitted, best first, ranked among all who submitted: one query."""
    finished = (
        Participant.objects.filter(session=session, completed_at__isnull=False)
        .select_related("user")
        .annotate(time_taken=_time_taken(), rank=_rank())
        .order_by(F("score").desc(), "completed_at", "joined_at", "id")
    )
    if limit is not None:
        finished = finished[:limit]
    return [_result(p) for p in finished]


@dataclass(frozen=True)
class Summary:
    joined: int
    finished: int
    average_score: float | None
    best_score: int | None
    question_count: int

    @property
    def average_percent(self) -> int | None:
        if self.average_score is None or not self.question_count:
            return None
        return round(100 * self.average_score / self.question_count)


def summarize(*, session: GroupSession) -> Summary:
    """Joined, finished, average and best score: one aggregate query."""
    totals = Participant.objects.filter(session=session).aggregate(
        joined=Count("pk"),
        finished=Count("pk", filter=Q(completed_at__isnull=False)),
        average_score=Avg("score"),
        best_score=Max("score"),
    )
    return Summary(question_count=session.question_count, **totals)


@dataclass(frozen=True)
class Standing:
    """A member's own place in a session."""

    result: ParticipantResult | None
    finished_count: int

    @property
    def joined(self) -> bool:
        return self.result is not None

    @property
    def finished(self) -> bool:
        return self.result is not None and self.result.finished


def member_standing(*, session: GroupSession, user) -> Standing:
    """The member's own row and rank among those who submitted (two queries)."""
    participant = (
        Participant.objects.filter(session=session, user=user)
        .select_related("user")
        .annotate(
            time_taken=_time_taken(),
            # Equal scores share a rank: 1 + how many did better.
            ahead=Count(
                "session__participants",
                filter=Q(
                    session__participants__completed_at__isnull=False,
                    session__participants__score__gt=F("score"),
                ),
            ),
        )
        .first()
    )
    finished_count = session.completed_count
    if participant is None:
        return Standing(result=None, finished_count=finished_count)
    participant.rank = participant.ahead + 1
    return Standing(result=_result(participant), finished_count=finished_count)


@dataclass(frozen=True)
class QuestionStat:
    number: int
    question_id: int
    prompt: str
    choices: tuple[str, ...]
    correct_choice: int
    finished: int
    """Participants who submitted: a question they left unanswered counts as wrong."""
    choice_counts: tuple[int, ...]

    @property
    def correct(self) -> int:
        return self.choice_counts[self.correct_choice] if self.correct_choice < len(self.choice_counts) else 0

    @property
    def answered(self) -> int:
        return sum(self.choice_counts)

    @property
    def rate(self) -> float | None:
        return self.correct / self.finished if self.finished else None

    @property
    def percent(self) -> int | None:
        return None if self.rate is None else round(100 * self.rate)

    @property
    def correct_answer(self) -> str:
        return self.choices[self.correct_choice]

    @property
    def top_wrong(self) -> tuple[str, int] | None:
        """The wrong choice picked most often (a common misconception), if anyone picked one."""
        wrong = [(count, index) for index, count in enumerate(self.choice_counts) if index != self.correct_choice]
        count, index = max(wrong, default=(0, -1), key=lambda pair: (pair[0], -pair[1]))
        return (self.choices[index], count) if count else None


def _choice_counts(*, session: GroupSession) -> dict[tuple[int, int], int]:
    """{(question_id, choice): how many who submitted picked it}, grouped by the database.

    The answers are JSON arrays on the participant rows ([{"question_id", "choice"}]); no ORM lookup
    unnests them, so this is the one raw query, written for both databases the project runs on.
    """
    table = connection.ops.quote_name(Participant._meta.db_table)
    if connection.vendor == "postgresql":
        sql = f"""
            SELECT (answer ->> 'question_id')::bigint, (answer ->> 'choice')::integer, COUNT(*)
            FROM {table} AS p
            CROSS JOIN LATERAL jsonb_array_elements(
                CASE WHEN jsonb_typeof(p.answers) = 'array' THEN p.answers ELSE '[]'::jsonb END
            ) AS answer
            WHERE p.session_id = %s AND p.completed_at IS NOT NULL
            GROUP BY 1, 2
        """
    else:
        # SQLite, which `make run` uses.
        sql = f"""
            SELECT json_extract(answer.value, '$.question_id'), json_extract(answer.value, '$.choice'), COUNT(*)
            FROM {table} AS p, json_each(p.answers) AS answer
            WHERE p.session_id = %s AND p.completed_at IS NOT NULL
            GROUP BY 1, 2
        """
    with connection.cursor() as cursor:
        cursor.execute(sql, [session.pk])
        return {
            (int(question_id), int(choice)): count
            for question_id, choice, count in cursor.fetchall()
            if question_id is not None and choice is not None
        }


def question_stats(*, session: GroupSession, finished: int | None = None) -> list[QuestionStat]:
    """Per-question correct rate, hardest first (questions nobody has answered yet last)."""
    counts = _choice_counts(session=session)
    if finished is None:
        finished = session.completed_count
    stats = [
        QuestionStat(
            number=number,
            question_id=int(question["id"]),
            prompt=question["prompt"],
            choices=tuple(question["choices"]),
            correct_choice=int(question["answer"]),
            finished=finished,
            choice_counts=tuple(counts.get((int(question["id"]), i), 0) for i in range(len(question["choices"]))),
        )
        for number, question in enumerate(session.questions_data or [], start=1)
    ]
    return sorted(stats, key=lambda s: (s.rate is None, s.rate if s.rate is not None else 0, s.number))


# --- CSV exports -------------------------------------------------------------------------------------


class _Echo:
    """csv.writer writes into this and gets the line back, so rows can be yielded as they are made."""

    def write(self, value: str) -> str:
        return value


# A cell starting with one of these is a formula to a spreadsheet: a username like "=HYPERLINK(…)"
# must stay text when an organizer opens the export.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _cell(value):
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


CSV_LINES_PER_CHUNK = 200


def csv_response(rows: Iterable[Iterable], *, filename: str) -> StreamingHttpResponse:
    writer = csv.writer(_Echo())

    def lines() -> Iterator[str]:
        # A byte order mark, so spreadsheet programs read the UTF-8 (accented names) as UTF-8.
        batch = ["\ufeff"]
        for row in rows:
            batch.append(writer.writerow([_cell(value) for value in row]))
            # Sent in batches: one chunk (a socket write) per line cost more than making the line.
            if len(batch) >= CSV_LINES_PER_CHUNK:
                yield "".join(batch)
                batch = []
        if batch:
            yield "".join(batch)

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "private, no-store"
    return response


PARTICIPANT_COLUMNS = [
    "rank",
    "username",
    "joined_at",
    "completed_at",
    "score",
    "total",
    "percent",
    "time_taken_seconds",
    "mastered",
]


def _participant_lines(session: GroupSession) -> Iterator[list]:
    yield PARTICIPANT_COLUMNS
    # Plain tuples of the exported columns: building a model (and decoding its answers) per row cost
    # several times the query itself on a 10,000-participant session.
    rows = participant_rows(session=session).values_list(
        "rank", "user__username", "joined_at", "completed_at", "score", "total", "time_taken", "mastered"
    )
    study_loop = session.is_study_loop
    for rank, username, joined_at, completed_at, score, total, time_taken, mastered in rows.iterator(chunk_size=2000):
        finished = completed_at is not None
        yield [
            rank if finished else None,
            username,
            joined_at,
            completed_at,
            score,
            total,
            percent_of(score, total) if finished else None,
            int(time_taken.total_seconds()) if time_taken is not None else None,
            ("yes" if mastered else "no") if study_loop else None,
        ]


def participants_csv_response(*, session: GroupSession) -> StreamingHttpResponse:
    return csv_response(_participant_lines(session), filename=f"session-{session.pk}-participants.csv")


QUESTION_COLUMNS = [
    "hardest_rank",
    "question",
    "prompt",
    "correct_answer",
    "finished",
    "answered",
    "correct",
    "correct_percent",
    "most_chosen_wrong_answer",
    "most_chosen_wrong_count",
]


def _question_lines(session: GroupSession) -> Iterator[list]:
    yield QUESTION_COLUMNS
    for place, stat in enumerate(question_stats(session=session), start=1):
        top_wrong = stat.top_wrong
        yield [
            place,
            stat.number,
            stat.prompt,
            stat.correct_answer,
            stat.finished,
            stat.answered,
            stat.correct,
            stat.percent,
            top_wrong[0] if top_wrong else None,
            top_wrong[1] if top_wrong else None,
        ]


def questions_csv_response(*, session: GroupSession) -> StreamingHttpResponse:
    return csv_response(_question_lines(session), filename=f"session-{session.pk}-questions.csv")
