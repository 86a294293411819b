from django.conf import settings
from django.db import models

from quizsite.tokens import new_share_token


class QuestionSet(models.Model):
    token = models.CharField(max_length=64, unique=True, default=new_share_token, editable=False)
    title = models.CharField(max_length=200)
    source_url = models.URLField(max_length=2000, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="question_sets"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return self.title


class Question(models.Model):
    question_set = models.ForeignKey(QuestionSet, on_delete=models.CASCADE, related_name="questions")
    position = models.PositiveIntegerField()
    prompt = models.TextField(max_length=2000)
    choices = models.JSONField()
    answer = models.PositiveSmallIntegerField(help_text="Index into choices of the correct one.")
    explanation = models.TextField(blank=True, max_length=2000)

    class Meta:
        ordering = ["question_set", "position"]
        constraints = [
            models.UniqueConstraint(fields=["question_set", "position"], name="question_unique_position"),
        ]

    def __str__(self):
        return self.prompt[:80]


class Attempt(models.Model):
    """One take of a question set in the individual flow (no group, no session)."""

    question_set = models.ForeignKey(QuestionSet, on_delete=models.CASCADE, related_name="attempts")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="attempts"
    )
    display_name = models.CharField(max_length=100, blank=True)
    answers = models.JSONField(default=list)
    score = models.PositiveIntegerField()
    total = models.PositiveIntegerField()
    submitted_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-submitted_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(score__lte=models.F("total")), name="attempt_score_le_total"),
        ]

    def __str__(self):
        who = self.user or self.display_name or "anonymous"
        return f"{who}: {self.score}/{self.total} on {self.question_set}"
