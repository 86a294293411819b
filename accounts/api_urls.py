from quizsite.routing import api_path

from . import api

urlpatterns = [
    api_path("auth/token", api.ObtainTokenView.as_view(), name="auth-token"),
]
