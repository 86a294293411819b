from django.contrib import admin
from django.db import models
from django.db.models import Count

from .models import Attempt, Question, QuestionSet


class QuestionInline(admin.StackedInline):
    model = Question
    extra = 0
    ordering = ["position"]
    fields = ["position", "prompt", "choices", "answer", "explanation"]


@admin.register(QuestionSet)
class QuestionSetAdmin(admin.ModelAdmin):
    list_display = ["title", "question_count", "created_by", "created_at"]
    list_select_related = ["created_by"]
    search_fields = ["title", "token", "source_url", "created_by__username"]
    list_filter = ["created_at"]
    date_hierarchy = "created_at"
    readonly_fields = ["token", "created_at"]
    fields = ["title", "source_url", "created_by", "token", "created_at"]
    raw_id_fields = ["created_by"]
    inlines = [QuestionInline]
    # Links shared from the extension are web pages; a bare "example.com" typed here means https.
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(question_count=Count("questions"))

    @admin.display(description="Questions", ordering="question_count")
    def question_count(self, obj):
        return obj.question_count


@admin.register(Question)
class QuestionAdmin(admin.ModelAdmin):
    list_display = ["prompt_preview", "question_set", "position", "answer"]
    list_select_related = ["question_set"]
    search_fields = ["prompt", "question_set__title", "question_set__token"]
    raw_id_fields = ["question_set"]
    ordering = ["question_set", "position"]

    @admin.display(description="Prompt", ordering="prompt")
    def prompt_preview(self, obj):
        return str(obj)


@admin.register(Attempt)
class AttemptAdmin(admin.ModelAdmin):
    list_display = ["question_set", "taker", "score", "total", "submitted_at"]
    list_select_related = ["question_set", "user"]
    list_filter = ["submitted_at", ("user", admin.EmptyFieldListFilter)]
    search_fields = ["display_name", "user__username", "question_set__title", "question_set__token"]
    date_hierarchy = "submitted_at"
    raw_id_fields = ["question_set", "user"]
    readonly_fields = ["submitted_at"]

    @admin.display(description="Taker")
    def taker(self, obj):
        return obj.user.username if obj.user else (obj.display_name or "anonymous")
