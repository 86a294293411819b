from django.urls import path

from . import views

app_name = "questions"
urlpatterns = [
    path("questions/<str:token>/results/<int:attempt_id>", views.result_page, name="result"),
]
