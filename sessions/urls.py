from django.urls import path

from . import play, views

app_name = "sessions"

_session = "groups/<int:group_id>/sessions/<int:session_id>"

urlpatterns = [
    path("groups/<int:group_id>", views.group_sessions_tab, name="group"),
    path("groups/<int:group_id>/sessions/new", views.session_create, name="create"),
    path("groups/<int:group_id>/sessions/preview", views.questions_preview, name="preview"),
    path(_session, views.session_detail, name="detail"),
    path(f"{_session}/edit", views.session_edit, name="edit"),
    path(f"{_session}/start", views.start_session, name="start"),
    path(f"{_session}/end", views.end_session, name="end"),
    path(f"{_session}/cancel", views.cancel_session, name="cancel"),
    path(f"{_session}/delete", views.delete_session, name="delete"),
    path(f"{_session}/qr.svg", views.session_qr, name="qr"),
    path(f"{_session}/export/participants.csv", views.export_participants, name="export_participants"),
    path(f"{_session}/export/questions.csv", views.export_questions, name="export_questions"),
    path("questions/<str:token>", play.quiz_page, name="play"),
]
