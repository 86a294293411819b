from django.apps import AppConfig


class GroupSessionsConfig(AppConfig):
    name = "sessions"
    # "sessions" is django.contrib.sessions' label.
    label = "group_sessions"
    verbose_name = "Group sessions"
