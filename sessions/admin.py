from django.contrib import admin, messages

from quizsite.errors import DomainError

from . import services
from .models import GroupSession, Participant, ParticipantRound, SessionNotification


class ParticipantInline(admin.TabularInline):
    model = Participant
    extra = 0
    fields = ["user", "joined_at", "completed_at", "score", "total", "mastered"]
    readonly_fields = fields
    can_delete = True
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        # People join through the join link; results come from their submissions.
        return False


def _lifecycle_action(service, done: str):
    """An admin action running one lifecycle service per selected session, reporting what happened."""

    def action(modeladmin, request, queryset):
        changed, refused = 0, []
        for session in queryset:
            before = session.status
            try:
                service(membership=None, session=session, by_staff=True)
            except DomainError as error:
                refused.append(f"{session.title}: {error.message}")
                continue
            changed += session.status != before
        if changed:
            modeladmin.message_user(request, f"{changed} session(s) {done}.", messages.SUCCESS)
        for message in refused:
            modeladmin.message_user(request, message, messages.WARNING)
        if not changed and not refused:
            modeladmin.message_user(request, f"Nothing to do: the sessions were already {done}.", messages.INFO)

    return action


@admin.register(GroupSession)
class GroupSessionAdmin(admin.ModelAdmin):
    list_display = [
        "title",
        "group",
        "session_type",
        "status",
        "scheduled_at",
        "ends_at",
        "participant_count",
        "completed_count",
    ]
    list_filter = ["status", "session_type", "created_at"]
    search_fields = ["title", "group__name", "share_token", "created_by__username"]
    list_select_related = ["group"]
    date_hierarchy = "created_at"
    # Only the title is edited here: times and status move through the lifecycle actions (the services).
    fields = [
        "title",
        "group",
        "session_type",
        "status",
        "share_token",
        "source_set",
        "created_by",
        "scheduled_at",
        "duration_minutes",
        "ends_at",
        "started_at",
        "ended_at",
        "loop_data",
        "questions_data",
        "created_at",
        "participant_count",
        "completed_count",
    ]
    readonly_fields = [name for name in fields if name != "title"]
    inlines = [ParticipantInline]
    actions = ["start_now", "end_now", "cancel"]

    def has_add_permission(self, request):
        # A session needs a snapshot and a creator: made from the site or the API, not a blank form.
        return False

    @admin.action(description="Start selected sessions now", permissions=["change"])
    def start_now(self, request, queryset):
        _lifecycle_action(services.start_session, "started")(self, request, queryset)

    @admin.action(description="End selected sessions now", permissions=["change"])
    def end_now(self, request, queryset):
        _lifecycle_action(services.end_session, "ended")(self, request, queryset)

    @admin.action(description="Cancel selected sessions", permissions=["change"])
    def cancel(self, request, queryset):
        _lifecycle_action(services.cancel_session, "cancelled")(self, request, queryset)


class ParticipantRoundInline(admin.TabularInline):
    model = ParticipantRound
    extra = 0
    fields = ["round", "score", "total", "submitted_at", "question_ids", "answers"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Participant)
class ParticipantAdmin(admin.ModelAdmin):
    list_display = ["user", "session", "joined_at", "completed_at", "score", "total", "mastered"]
    list_filter = ["mastered", "joined_at"]
    search_fields = ["user__username", "session__title", "session__group__name"]
    list_select_related = ["user", "session"]
    raw_id_fields = ["session", "user"]
    readonly_fields = ["joined_at", "completed_at", "answers", "score", "total", "mastered"]
    inlines = [ParticipantRoundInline]


@admin.register(ParticipantRound)
class ParticipantRoundAdmin(admin.ModelAdmin):
    list_display = ["participant", "round", "score", "total", "submitted_at"]
    list_filter = ["round"]
    search_fields = ["participant__user__username", "participant__session__title"]
    list_select_related = ["participant__user", "participant__session"]
    raw_id_fields = ["participant"]
    readonly_fields = ["submitted_at"]


@admin.register(SessionNotification)
class SessionNotificationAdmin(admin.ModelAdmin):
    list_display = ["kind", "user", "session", "sent_at"]
    list_filter = ["kind", "sent_at"]
    search_fields = ["user__username", "session__title"]
    list_select_related = ["user", "session"]
    raw_id_fields = ["session", "user"]
    readonly_fields = ["sent_at"]
