from django.conf import settings
from django.db import models

from quizsite.tokens import new_share_token


class Group(models.Model):
    name = models.CharField(max_length=100)
    description = models.TextField(blank=True, max_length=2000)
    invite_token = models.CharField(max_length=64, unique=True, default=new_share_token, editable=False)
    members_can_create_sessions = models.BooleanField(
        default=True, help_text="Whether plain members may create sessions (owners and admins always may)."
    )
    # related_name avoids clashing with django.contrib.auth's User.groups.
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="created_study_groups"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "id"]

    def __str__(self):
        return self.name


class Role(models.TextChoices):
    OWNER = "owner", "Owner"
    ADMIN = "admin", "Admin"
    MEMBER = "member", "Member"


class Membership(models.Model):
    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="study_memberships")
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.MEMBER)
    joined_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["group", "user__username"]
        constraints = [
            models.UniqueConstraint(fields=["group", "user"], name="membership_unique_group_user"),
            models.CheckConstraint(
                condition=models.Q(role__in=["owner", "admin", "member"]), name="membership_role_valid"
            ),
        ]
        indexes = [models.Index(fields=["user", "group"], name="membership_user_group_idx")]

    def __str__(self):
        return f"{self.user} in {self.group} ({self.role})"

    @property
    def is_manager(self) -> bool:
        return self.role in (Role.OWNER, Role.ADMIN)
