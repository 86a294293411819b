from django.urls import path

from . import play

app_name = "sessions"
urlpatterns = [
    path("questions/<str:token>", play.quiz_page, name="play"),
]
