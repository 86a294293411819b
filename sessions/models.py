from datetime import datetime

from django.conf import settings
from django.db import connection, models
from django.db.models import Q
from django.utils.functional import cached_property

from quizsite import rows
from quizsite.tokens import new_share_token


class SessionType(models.TextChoices):
    INSTANT = "instant", "Instant"
    SCHEDULED = "scheduled", "Scheduled"


class SessionStatus(models.TextChoices):
    SCHEDULED = "scheduled", "Scheduled"
    ACTIVE = "active", "Active"
    COMPLETED = "completed", "Completed"
    CANCELLED = "cancelled", "Cancelled"


MAX_DURATION_MINUTES = 10080


class GroupSession(models.Model):
    group = models.ForeignKey("groups.Group", on_delete=models.CASCADE, related_name="sessions")
    title = models.CharField(max_length=200)
    session_type = models.CharField(max_length=10, choices=SessionType.choices)
    # The stored status is what the last transition wrote; `effective_status()` is the truth at a moment.
    status = models.CharField(max_length=10, choices=SessionStatus.choices)
    share_token = models.CharField(max_length=64, unique=True, default=new_share_token, editable=False)
    source_set = models.ForeignKey(
        "questions.QuestionSet", null=True, blank=True, on_delete=models.SET_NULL, related_name="group_sessions"
    )
    # A snapshot: [{"id", "prompt", "choices", "answer", "explanation"}], independent of later set edits.
    questions_data = models.JSONField(default=list)
    loop_data = models.JSONField(null=True, blank=True)
    scheduled_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    duration_minutes = models.PositiveIntegerField(null=True, blank=True)
    ends_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="created_group_sessions"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # Kept true by database triggers on the participant table (migration 0002), so every write path
    # (services, admin, cascades, bulk loads) counts, and a page reads them instead of counting rows:
    # counting 10,000 participants on every join cost more than the rest of the request.
    participant_count = models.PositiveIntegerField(default=0, editable=False)
    completed_count = models.PositiveIntegerField(default=0, editable=False)

    COUNTER_FIELDS = ("participant_count", "completed_count")

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(session_type__in=["instant", "scheduled"]), name="session_type_valid"),
            models.CheckConstraint(
                condition=Q(status__in=["scheduled", "active", "completed", "cancelled"]), name="session_status_valid"
            ),
            models.CheckConstraint(
                condition=~Q(session_type="scheduled") | Q(scheduled_at__isnull=False),
                name="session_scheduled_has_time",
            ),
            models.CheckConstraint(
                condition=Q(duration_minutes__isnull=True)
                | Q(duration_minutes__gte=1, duration_minutes__lte=MAX_DURATION_MINUTES),
                name="session_duration_range",
            ),
            models.CheckConstraint(
                condition=~Q(status="active") | Q(started_at__isnull=False), name="session_active_has_start"
            ),
            models.CheckConstraint(
                condition=Q(ends_at__isnull=True) | Q(started_at__isnull=True) | Q(ends_at__gte=models.F("started_at")),
                name="session_ends_after_start",
            ),
        ]
        indexes = [
            # "Sessions of a group by status", newest first.
            models.Index(fields=["group", "status", "-created_at"], name="session_group_status_idx"),
            models.Index(fields=["group", "-created_at"], name="session_group_created_idx"),
            # "Due scheduled sessions" for the sweep: a small partial index.
            models.Index(fields=["scheduled_at"], name="session_due_scheduled_idx", condition=Q(status="scheduled")),
            models.Index(fields=["ends_at"], name="session_due_active_idx", condition=Q(status="active")),
        ]

    def __str__(self):
        return self.title

    def save(self, *args, **kwargs):
        # The triggers own the counters: a whole-row save (a form, the admin) must not write back the
        # counts it read earlier, or joins made in between would be lost.
        if not self._state.adding and kwargs.get("update_fields") is None:
            kwargs["update_fields"] = [
                field.name
                for field in self._meta.concrete_fields
                if not field.primary_key and field.name not in self.COUNTER_FIELDS
            ]
        super().save(*args, **kwargs)

    def effective_status(self, now: datetime) -> str:
        """The status the outside world sees at `now`, whether or not a worker has persisted it."""
        if self.status in (SessionStatus.COMPLETED, SessionStatus.CANCELLED):
            return self.status
        if self.ends_at is not None and self.ends_at <= now:
            return SessionStatus.COMPLETED
        if self.status == SessionStatus.SCHEDULED and self.scheduled_at is not None and self.scheduled_at <= now:
            return SessionStatus.ACTIVE
        return self.status

    def effective_started_at(self, now: datetime):
        if self.started_at is None and self.status == SessionStatus.SCHEDULED:
            if self.effective_status(now) != SessionStatus.SCHEDULED:
                return self.scheduled_at
        return self.started_at

    def effective_ended_at(self, now: datetime):
        if self.ended_at is None and self.status != SessionStatus.CANCELLED:
            if self.effective_status(now) == SessionStatus.COMPLETED:
                return self.ends_at
        return self.ended_at

    @property
    def join_url(self) -> str:
        return f"/questions/{self.share_token}?groupId={self.group_id}&sessionId={self.pk}"

    @property
    def question_count(self) -> int:
        return len(self.questions_data or [])

    @property
    def is_study_loop(self) -> bool:
        return isinstance(self.loop_data, dict) and self.loop_data.get("mode") == "until_mastered"


class Participant(models.Model):
    session = models.ForeignKey(GroupSession, on_delete=models.CASCADE, related_name="participants")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="session_participations")
    joined_at = models.DateTimeField(auto_now_add=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    # Round 1 is what counts: these mirror it so a leaderboard reads one row per participant.
    answers = models.JSONField(null=True, blank=True)
    score = models.PositiveIntegerField(null=True, blank=True)
    total = models.PositiveIntegerField(null=True, blank=True)
    mastered = models.BooleanField(default=False)

    class Meta:
        ordering = ["session_id", "joined_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["session", "user"], name="participant_unique_session_user"),
            models.CheckConstraint(
                condition=(Q(completed_at__isnull=True, score__isnull=True, total__isnull=True))
                | Q(completed_at__isnull=False, score__isnull=False, total__isnull=False, score__lte=models.F("total")),
                name="participant_result_complete",
            ),
        ]
        indexes = [
            models.Index(fields=["session", "-score", "completed_at"], name="participant_leaderboard_idx"),
        ]

    def __str__(self):
        return f"{self.user} in {self.session}"

    @cached_property
    def round_list(self) -> list["ParticipantRound"]:
        """The submitted rounds, round 1 first; a caller holding them already may assign this instead."""
        if self.pk is None or self.completed_at is None:
            return []  # round 1 is what sets completed_at: before it there are no rounds to read
        if "rounds" in getattr(self, "_prefetched_objects_cache", {}):
            return list(self.rounds.all())
        # Read on every join of someone who has submitted: hand-written, see quizsite.rows.
        query = (
            f"SELECT {rows.select_list(ParticipantRound, 'r')} FROM {ParticipantRound._meta.db_table} r"
            " WHERE r.participant_id = %s ORDER BY r.round"
        )
        with connection.cursor() as cursor:
            cursor.execute(query, [self.pk])
            return [rows.instance(ParticipantRound, row) for row in cursor.fetchall()]


class ParticipantRound(models.Model):
    """One submitted round of a participant; round 1 is the scored one, later rounds are the study loop."""

    participant = models.ForeignKey(Participant, on_delete=models.CASCADE, related_name="rounds")
    round = models.PositiveSmallIntegerField()
    question_ids = models.JSONField(default=list)
    answers = models.JSONField(default=list)
    score = models.PositiveIntegerField()
    total = models.PositiveIntegerField()
    submitted_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        # By the columns, not the relations: ordering by "participant" would join two tables on every read.
        ordering = ["participant_id", "round"]
        constraints = [
            # Two concurrent submits of the same round: the database keeps exactly one.
            models.UniqueConstraint(fields=["participant", "round"], name="round_unique_participant_round"),
            models.CheckConstraint(condition=Q(round__gte=1), name="round_positive"),
            models.CheckConstraint(condition=Q(score__lte=models.F("total")), name="round_score_le_total"),
        ]

    def __str__(self):
        return f"round {self.round} of {self.participant}"


class NotificationKind(models.TextChoices):
    REMINDER = "reminder", "Reminder before start"
    OPENED = "opened", "Session opened"
    RESULTS = "results", "Results to creator"


class SessionNotification(models.Model):
    """A record that an email was sent, so a retried or duplicated task never sends it twice."""

    session = models.ForeignKey(GroupSession, on_delete=models.CASCADE, related_name="notifications")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="session_notifications")
    kind = models.CharField(max_length=10, choices=NotificationKind.choices)
    sent_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-sent_at"]
        constraints = [
            models.UniqueConstraint(fields=["session", "user", "kind"], name="notification_once_per_kind"),
        ]

    def __str__(self):
        return f"{self.kind} to {self.user} for {self.session}"
