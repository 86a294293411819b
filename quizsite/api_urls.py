"""Every /api/ route, gathered from the apps. Paths answer with or without a trailing slash."""

from accounts.api_urls import urlpatterns as account_api
from groups.api_urls import urlpatterns as group_api
from questions.api_urls import urlpatterns as question_api
from sessions.api_urls import urlpatterns as session_api

urlpatterns = [*account_api, *group_api, *question_api, *session_api]
