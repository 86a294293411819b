from quizsite.routing import api_path

from . import api, play

urlpatterns = [
    api_path(
        "extension/create-group-session", api.ExtensionCreateSessionView.as_view(), name="extension-create-session"
    ),
    api_path("groups/<int:group_id>/sessions", api.GroupSessionsView.as_view(), name="group-sessions"),
    api_path(
        "groups/<int:group_id>/sessions/<int:session_id>",
        api.GroupSessionDetailView.as_view(),
        name="group-session-detail",
    ),
    api_path("questions/<str:token>/submit", play.SubmitView.as_view(), name="quiz-submit"),
    api_path("questions/<str:token>", play.QuizView.as_view(), name="quiz"),
]
