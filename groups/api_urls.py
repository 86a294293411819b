from quizsite.routing import api_path

from . import api

urlpatterns = [
    api_path("groups", api.GroupCreateView.as_view(), name="groups"),
    api_path("groups/<int:group_id>/members", api.GroupMembersView.as_view(), name="group-members"),
    api_path("groups/<int:group_id>/members/<int:user_id>", api.GroupMemberView.as_view(), name="group-member"),
    api_path("user/groups", api.UserGroupsView.as_view(), name="user-groups"),
]
