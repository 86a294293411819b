# `/groups/<id>` itself (the Sessions tab, the group page's default) is routed by the sessions app.
from django.urls import path

from . import views

app_name = "groups"
urlpatterns = [
    path("", views.group_list, name="list"),
    path("new", views.group_create, name="create"),
    path("join/<str:invite_token>", views.join, name="join"),
    path("<int:group_id>/members", views.members, name="members"),
    path("<int:group_id>/members/add", views.add_member, name="add_member"),
    path("<int:group_id>/members/<int:user_id>/role", views.change_role, name="change_role"),
    path("<int:group_id>/members/<int:user_id>/remove", views.remove_member, name="remove_member"),
    path("<int:group_id>/invite/regenerate", views.regenerate_invite, name="regenerate_invite"),
    path("<int:group_id>/settings", views.update_settings, name="settings"),
]
