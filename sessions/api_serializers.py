"""Request and response bodies of the group-session API, as the contract spells them.

Response serializers are what the views actually render (so /api/schema describes what is sent).
A session's `status`, `started_at` and `ended_at` are the effective ones at `context["now"]`.
"""

from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from questions.api_serializers import QuestionOutputSerializer, QuestionResultSerializer
from questions.validation import QuestionListField

from .models import MAX_DURATION_MINUTES, SessionStatus, SessionType

_LOOP_DATA_HELP = (
    'Stored as given (a JSON object of at most 16 KiB). `{"mode": "until_mastered", "max_rounds": 1..10}` '
    "turns on the study loop: missed questions come back in later rounds (default 3 rounds)."
)


@extend_schema_field({"type": "object", "additionalProperties": True, "nullable": True})
class LoopDataField(serializers.JSONField):
    """Any JSON on the way in (the service says which shapes are allowed), an object or null in the schema."""


class UserRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()


class GroupRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


# --- Requests --------------------------------------------------------------------------------------


class SessionCreateSerializer(serializers.Serializer):
    """Body of POST /api/groups/<group_id>/sessions."""

    title = serializers.CharField(
        max_length=200, required=False, allow_blank=True, help_text="Defaults to the question set's title."
    )
    session_type = serializers.ChoiceField(choices=SessionType.choices)
    scheduled_at = serializers.DateTimeField(
        required=False, allow_null=True, help_text="Required for scheduled sessions; must be in the future."
    )
    duration_minutes = serializers.IntegerField(
        required=False,
        allow_null=True,
        min_value=1,
        max_value=MAX_DURATION_MINUTES,
        help_text="Null or absent: open until ended by hand.",
    )
    loop_data = LoopDataField(required=False, allow_null=True, help_text=_LOOP_DATA_HELP)
    share_token = serializers.CharField(
        required=False, max_length=64, help_text="An existing question set's token (or give `questions`)."
    )
    questions = QuestionListField(required=False, help_text="The questions themselves (or give `share_token`).")

    def validate(self, attrs):
        if ("share_token" in attrs) == ("questions" in attrs):
            raise serializers.ValidationError("Give exactly one of share_token or questions.")
        return attrs


class ExtensionSessionCreateSerializer(SessionCreateSerializer):
    """Body of POST /api/extension/create-group-session."""

    group_id = serializers.IntegerField()

    def get_fields(self):
        # group_id first in the documented body, as the contract lists it.
        fields = super().get_fields()
        return {"group_id": fields.pop("group_id"), **fields}


class SessionUpdateSerializer(serializers.Serializer):
    """Body of PUT/PATCH: every field optional; one left out, or equal to the current value, is unchanged."""

    title = serializers.CharField(required=False, min_length=1, max_length=200)
    scheduled_at = serializers.DateTimeField(required=False, allow_null=True, help_text="Only while scheduled.")
    duration_minutes = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, max_value=MAX_DURATION_MINUTES
    )
    status = serializers.ChoiceField(
        choices=SessionStatus.choices,
        required=False,
        help_text="A transition: scheduled→active (start now), scheduled→cancelled, active→completed (end now).",
    )


class SessionListFilterSerializer(serializers.Serializer):
    """Query of the list; an empty value means no filter."""

    status = serializers.ChoiceField(choices=SessionStatus.choices, required=False, allow_blank=True)
    session_type = serializers.ChoiceField(choices=SessionType.choices, required=False, allow_blank=True)


# --- Responses -------------------------------------------------------------------------------------


def _datetime(value):
    """What the declared DateTimeFields render (ISO 8601 in the site's time zone, UTC as "Z"), without DRF's
    per-call settings and time-zone lookups: a join renders up to a dozen of these."""
    if value is None:
        return None
    text = value.astimezone(timezone.get_default_timezone()).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


class SessionSerializer(serializers.Serializer):
    """The contract's Session object."""

    id = serializers.IntegerField()
    group_id = serializers.IntegerField()
    title = serializers.CharField()
    session_type = serializers.ChoiceField(choices=SessionType.choices)
    status = serializers.SerializerMethodField(help_text="True at the moment of the response.")
    share_token = serializers.CharField()
    join_url = serializers.CharField(help_text="/questions/<share_token>?groupId=<group_id>&sessionId=<id>")
    scheduled_at = serializers.DateTimeField(allow_null=True)
    started_at = serializers.SerializerMethodField()
    ends_at = serializers.DateTimeField(allow_null=True)
    ended_at = serializers.SerializerMethodField()
    duration_minutes = serializers.IntegerField(allow_null=True, help_text="Null: open until ended by hand.")
    question_count = serializers.IntegerField()
    participant_count = serializers.IntegerField()
    completed_count = serializers.IntegerField()
    created_by = UserRefSerializer(allow_null=True)
    created_at = serializers.DateTimeField()
    loop_data = LoopDataField(allow_null=True)

    def _now(self):
        if "now" not in self.context:
            self.context["now"] = timezone.now()
        return self.context["now"]

    def to_representation(self, session):
        # Written out rather than walked field by field: DRF copies every declared field for each
        # serializer it builds, which cost more than the rest of a join. The fields above still define
        # the schema; tests/sessions/test_serializers.py holds the two equal.
        now = self._now()
        creator = session.created_by
        return {
            "id": session.pk,
            "group_id": session.group_id,
            "title": session.title,
            "session_type": str(session.session_type),
            "status": str(session.effective_status(now)),
            "share_token": session.share_token,
            "join_url": session.join_url,
            "scheduled_at": _datetime(session.scheduled_at),
            "started_at": _datetime(session.effective_started_at(now)),
            "ends_at": _datetime(session.ends_at),
            "ended_at": _datetime(session.effective_ended_at(now)),
            "duration_minutes": session.duration_minutes,
            "question_count": session.question_count,
            "participant_count": session.participant_count,
            "completed_count": session.completed_count,
            "created_by": None if creator is None else {"id": creator.pk, "username": creator.username},
            "created_at": _datetime(session.created_at),
            "loop_data": session.loop_data,
        }

    @extend_schema_field(serializers.ChoiceField(choices=SessionStatus.choices))
    def get_status(self, session) -> str:
        return str(session.effective_status(self._now()))

    @extend_schema_field(serializers.DateTimeField(allow_null=True))
    def get_started_at(self, session):
        return _datetime(session.effective_started_at(self._now()))

    @extend_schema_field(serializers.DateTimeField(allow_null=True))
    def get_ended_at(self, session):
        return _datetime(session.effective_ended_at(self._now()))


class RoundSerializer(serializers.Serializer):
    round = serializers.IntegerField()
    score = serializers.IntegerField()
    total = serializers.IntegerField()
    submitted_at = serializers.DateTimeField()


class ParticipantSerializer(serializers.Serializer):
    """A participant's standing; `score`/`total` are round 1's, what a leaderboard ranks."""

    joined_at = serializers.DateTimeField()
    completed_at = serializers.DateTimeField(allow_null=True)
    score = serializers.IntegerField(allow_null=True)
    total = serializers.IntegerField(allow_null=True)
    rounds = RoundSerializer(many=True, source="round_list", help_text="Every submitted round, round 1 first.")
    mastered = serializers.BooleanField(help_text="Every question answered right in some round.")

    def to_representation(self, participant):
        # Written out for speed, as SessionSerializer.to_representation is.
        return {
            "joined_at": _datetime(participant.joined_at),
            "completed_at": _datetime(participant.completed_at),
            "score": participant.score,
            "total": participant.total,
            "rounds": [
                {"round": r.round, "score": r.score, "total": r.total, "submitted_at": _datetime(r.submitted_at)}
                for r in participant.round_list
            ],
            "mastered": participant.mastered,
        }


class ParticipantRowSerializer(ParticipantSerializer):
    user = UserRefSerializer()

    def get_fields(self):
        fields = super().get_fields()
        return {"user": fields.pop("user"), **fields}

    def to_representation(self, participant):
        user = {"id": participant.user.pk, "username": participant.user.username}
        return {"user": user, **super().to_representation(participant)}


class SessionDetailSerializer(SessionSerializer):
    """Schema only: the view renders the session and adds `participants` itself."""

    participants = ParticipantRowSerializer(
        many=True, help_text="Everyone for owners, admins and the creator; only the caller's own row otherwise."
    )


class SessionCreatedSerializer(serializers.Serializer):
    session = SessionSerializer()
    join_url = serializers.CharField()


class SessionPageSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = SessionSerializer(many=True)


class QuizContextSerializer(serializers.Serializer):
    group = GroupRefSerializer()
    session = SessionSerializer()
    participant = ParticipantSerializer(
        allow_null=True, help_text="The caller's row; null only when they never joined a session now over."
    )


class QuizPayloadSerializer(serializers.Serializer):
    """GET /api/questions/<token>: individual flow (context null) or group flow."""

    token = serializers.CharField()
    title = serializers.CharField()
    open = serializers.BooleanField()
    questions = QuestionOutputSerializer(many=True, help_text="Empty unless open. Never the answers.")
    context = QuizContextSerializer(allow_null=True, help_text="Null in the individual flow.")


class NextRoundSerializer(serializers.Serializer):
    round = serializers.IntegerField()
    questions = QuestionOutputSerializer(many=True, help_text="Only the questions missed so far.")


class SubmissionResultSerializer(serializers.Serializer):
    """POST /api/questions/<token>/submit. `round`, `next_round` and `counted_round` only in a study loop."""

    score = serializers.IntegerField(help_text="This round's score.")
    total = serializers.IntegerField(help_text="This round's number of questions.")
    results = QuestionResultSerializer(many=True)
    context = QuizContextSerializer(allow_null=True, help_text="Null in the individual flow.")
    round = serializers.IntegerField(required=False, help_text="Study loop: the round just submitted.")
    next_round = NextRoundSerializer(
        required=False, allow_null=True, help_text="Study loop: the round now on offer, or null when done."
    )
    counted_round = serializers.IntegerField(
        required=False,
        help_text="Study loop: the round whose score counts (always 1): later rounds are for practice, "
        "and context.participant.score/total stay round 1's.",
    )
