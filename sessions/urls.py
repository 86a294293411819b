from django.urls import path

from . import play, views

app_name = "sessions"
urlpatterns = [
    path("groups/<int:group_id>", views.group_sessions_tab, name="group"),
    path("questions/<str:token>", play.quiz_page, name="play"),
]
