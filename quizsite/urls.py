from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from accounts.views import home
from quizsite import health

api_docs = SpectacularSwaggerSplitView.as_view(url_name="schema", template_name="api_docs.html")

urlpatterns = [
    path("", home, name="home"),
    path("admin/", admin.site.urls),
    path("healthz", health.healthz, name="healthz"),
    path("api/schema", SpectacularAPIView.as_view(), name="schema"),
    path("api/schema/", SpectacularAPIView.as_view()),
    # The split view serves its start-up script from a URL of its own: the CSP allows no inline script.
    path("api/docs", api_docs, name="api-docs"),
    path("api/docs/", api_docs),
    path("api/", include("quizsite.api_urls")),
    path("account/", include("accounts.urls")),
    path("groups/", include("groups.urls")),
    path("", include("sessions.urls")),
    path("", include("questions.urls")),
]
