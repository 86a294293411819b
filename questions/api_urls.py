from quizsite.routing import api_path

from . import api

urlpatterns = [
    api_path("question-sets", api.QuestionSetCreateView.as_view(), name="question-set-create"),
]
