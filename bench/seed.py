"""Seed the benchmark database at scale with bulk inserts, and write what the load generator needs.

`python -m bench.seed --context bench/out/context.json` against an empty, migrated database (DATABASE_URL):

- one group of 10,000 members (an owner, 49 admins, the rest plain members), each with an API token;
- 1,000 sessions in it: the newest is active with all 10,000 members joined and half of them
  submitted; the 999 older ones are a mix of completed (20 participants each), scheduled and cancelled;
- signed-in browser sessions (django_session rows) for the admins and for 200 members.

Every user shares one precomputed password hash: hashing 10,000 passwords would take minutes and
measure nothing. Rows go in with `bulk_create` in large batches, so the whole seed takes seconds.
"""

import argparse
import binascii
import json
import os
import random
import sys
import time
from datetime import timedelta

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "quizsite.settings")
django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model  # noqa: E402
from django.contrib.auth.hashers import make_password  # noqa: E402
from django.contrib.sessions.backends.db import SessionStore  # noqa: E402
from django.contrib.sessions.models import Session  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.db.models import F  # noqa: E402
from django.utils import timezone  # noqa: E402
from rest_framework.authtoken.models import Token  # noqa: E402

from groups.models import Group, Membership, Role  # noqa: E402
from quizsite.rls import rls_bypass  # noqa: E402
from sessions.models import (  # noqa: E402
    GroupSession,
    Participant,
    ParticipantRound,
    SessionStatus,
    SessionType,
)

MEMBERS = 10_000
ADMINS = 49
SESSIONS = 1_000
QUESTIONS = 10
CHOICES = 4
PARTICIPANTS_PER_OLD_SESSION = 20
BROWSER_MEMBERS = 200
BATCH = 5_000
PASSWORD = "bench-password"

User = get_user_model()


def _questions(rng: random.Random) -> list[dict]:
    return [
        {
            "id": number,
            "prompt": f"Question {number}: which of these is right?",
            "choices": [f"Choice {c + 1} of question {number}" for c in range(CHOICES)],
            "answer": rng.randrange(CHOICES),
            "explanation": f"Because choice {number % CHOICES + 1} is a distractor.",
        }
        for number in range(1, QUESTIONS + 1)
    ]


def _answers(rng: random.Random, questions: list[dict]) -> tuple[list[dict], int]:
    # Two in three right on average: a leaderboard with spread and a hardest-first question order.
    answers = []
    score = 0
    for question in questions:
        choice = question["answer"] if rng.random() < 0.66 else rng.randrange(CHOICES)
        score += choice == question["answer"]
        answers.append({"question_id": question["id"], "choice": choice})
    return answers, score


def _token_key() -> str:
    return binascii.hexlify(os.urandom(20)).decode()


def _signed_in(user) -> Session:
    """A django_session row as `login()` would leave it, so a client can send its key as the cookie."""
    store = SessionStore()
    data = {
        SESSION_KEY: str(user.pk),
        BACKEND_SESSION_KEY: settings.AUTHENTICATION_BACKENDS[0],
        HASH_SESSION_KEY: user.get_session_auth_hash(),
    }
    return Session(
        session_key=store._get_new_session_key(),
        session_data=store.encode(data),
        expire_date=timezone.now() + timedelta(days=1),
    )


def seed(rng: random.Random) -> dict:
    now = timezone.now()
    password = make_password(PASSWORD)

    users = User.objects.bulk_create(
        [
            User(username=f"bench{index:05d}", email=f"bench{index:05d}@example.com", password=password)
            for index in range(MEMBERS)
        ],
        batch_size=BATCH,
    )
    owner = users[0]
    group = Group.objects.create(name="Benchmark group", description="10,000 members.", created_by=owner)

    def role(index: int) -> str:
        if index == 0:
            return Role.OWNER
        return Role.ADMIN if index <= ADMINS else Role.MEMBER

    Membership.objects.bulk_create(
        [Membership(group=group, user=user, role=role(index)) for index, user in enumerate(users)], batch_size=BATCH
    )
    tokens = Token.objects.bulk_create([Token(key=_token_key(), user=user) for user in users], batch_size=BATCH)

    # 999 older sessions, oldest first, then the active one: newest, so it heads every list.
    questions = _questions(rng)
    old_sessions = []
    for index in range(SESSIONS - 1):
        kind = index % 20
        if kind == 0:
            scheduled_at = now + timedelta(days=1 + index)
            fields = {"session_type": SessionType.SCHEDULED, "status": SessionStatus.SCHEDULED}
            fields |= {
                "scheduled_at": scheduled_at,
                "duration_minutes": 30,
                "ends_at": scheduled_at + timedelta(minutes=30),
            }
        elif kind == 1:
            fields = {"session_type": SessionType.SCHEDULED, "status": SessionStatus.CANCELLED}
            fields |= {"scheduled_at": now - timedelta(days=index)}
        else:
            started_at = now - timedelta(days=SESSIONS - index)
            fields = {"session_type": SessionType.INSTANT, "status": SessionStatus.COMPLETED}
            fields |= {"started_at": started_at, "ended_at": started_at + timedelta(minutes=20)}
        old_sessions.append(
            GroupSession(
                group=group, title=f"Revision quiz {index + 1}", questions_data=questions, created_by=owner, **fields
            )
        )
    GroupSession.objects.bulk_create(old_sessions, batch_size=BATCH)
    active = GroupSession.objects.create(
        group=group,
        title="Whole-group quiz",
        session_type=SessionType.INSTANT,
        status=SessionStatus.ACTIVE,
        started_at=now,
        questions_data=questions,
        created_by=owner,
    )
    # bulk_create stamps every row with the same created_at: spread them a day apart, oldest first.
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {GroupSession._meta.db_table} SET created_at = %s - interval '1 day' * (%s - id)"
            " WHERE group_id = %s AND id <> %s",
            [now, active.pk, group.pk, active.pk],
        )

    # The active session: everyone joined; the first half (by member number) submitted.
    submitted = set(range(MEMBERS // 2))
    participants = []
    scored: dict[int, tuple[list[dict], int]] = {}
    for index, user in enumerate(users):
        participant = Participant(session=active, user=user)
        if index in submitted:
            answers, score = _answers(rng, questions)
            scored[index] = (answers, score)
            participant.answers = answers
            participant.score = score
            participant.total = QUESTIONS
            participant.completed_at = now + timedelta(seconds=rng.randrange(60, 900))
        participants.append(participant)
    Participant.objects.bulk_create(participants, batch_size=BATCH)
    ParticipantRound.objects.bulk_create(
        [
            ParticipantRound(
                participant=participants[index],
                round=1,
                question_ids=[q["id"] for q in questions],
                answers=scored[index][0],
                score=scored[index][1],
                total=QUESTIONS,
            )
            for index in sorted(submitted)
        ],
        batch_size=BATCH,
    )

    # Completed sessions each had a few people.
    old_participants = []
    for session in old_sessions:
        if session.status != SessionStatus.COMPLETED:
            continue
        for user in rng.sample(users, PARTICIPANTS_PER_OLD_SESSION):
            answers, score = _answers(rng, questions)
            old_participants.append(
                Participant(
                    session=session,
                    user=user,
                    answers=answers,
                    score=score,
                    total=QUESTIONS,
                    completed_at=session.ended_at,
                )
            )
    Participant.objects.bulk_create(old_participants, batch_size=BATCH)
    # Joined a while before finishing, so "time taken" reads like a real session.
    Participant.objects.update(joined_at=F("joined_at") - timedelta(minutes=30))

    browser_users = users[1 : ADMINS + 1] + users[ADMINS + 1 : ADMINS + 1 + BROWSER_MEMBERS]
    sessions = Session.objects.bulk_create([_signed_in(user) for user in browser_users], batch_size=BATCH)
    admin_cookies = [s.session_key for s in sessions[:ADMINS]]
    member_cookies = [s.session_key for s in sessions[ADMINS:]]

    token_of = {token.user_id: token.key for token in tokens}
    return {
        "group_id": group.pk,
        "session_id": active.pk,
        "share_token": active.share_token,
        "questions": [{"id": q["id"], "choices": len(q["choices"])} for q in questions],
        # Join: any member. Submit: only those who have not submitted, each at most once.
        "member_tokens": [token_of[user.pk] for user in users],
        "unsubmitted_tokens": [token_of[user.pk] for index, user in enumerate(users) if index not in submitted],
        "admin_cookies": admin_cookies,
        "member_cookies": member_cookies,
        "counts": {
            "members": Membership.objects.filter(group=group).count(),
            "sessions": GroupSession.objects.filter(group=group).count(),
            "participants_active": Participant.objects.filter(session=active).count(),
            "submitted_active": Participant.objects.filter(session=active, completed_at__isnull=False).count(),
        },
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--context", required=True, help="where to write the load generator's JSON")
    parser.add_argument("--seed", type=int, default=6, help="random seed (the data is the same every run)")
    args = parser.parse_args(argv)
    if connection.vendor != "postgresql" or "bench" not in connection.settings_dict["NAME"]:
        print(
            "refusing to seed: DATABASE_URL must name a PostgreSQL database with 'bench' in its name", file=sys.stderr
        )
        return 2

    started = time.monotonic()
    # Bulk rows for 10,000 people at once: a trusted context under the row-level security bypass.
    with rls_bypass("bench seed"), transaction.atomic():
        context = seed(random.Random(args.seed))
    seeded = time.monotonic() - started
    # What autovacuum would do shortly after a bulk load: fresh statistics and a visibility map.
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    context["seed_seconds"] = round(seeded, 2)
    context["seed_and_vacuum_seconds"] = round(time.monotonic() - started, 2)
    with open(args.context, "w") as out:
        json.dump(context, out)
    counts = context["counts"]
    print(
        f"seeded {counts['members']} members, {counts['sessions']} sessions, {counts['participants_active']} "
        f"participants ({counts['submitted_active']} submitted) in {context['seed_seconds']} s "
        f"(+ VACUUM ANALYZE: {context['seed_and_vacuum_seconds']} s)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
