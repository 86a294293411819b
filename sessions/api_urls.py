from quizsite.routing import api_path

from . import play

urlpatterns = [
    api_path("questions/<str:token>/submit", play.SubmitView.as_view(), name="quiz-submit"),
    api_path("questions/<str:token>", play.QuizView.as_view(), name="quiz"),
]
