from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from groups.permissions import GroupAction, access_group, require_group


@login_required
def group_sessions_tab(request, group_id: int):
    """The group page's default tab. (Placeholder until the Sessions tab lands.)"""
    membership = access_group(user=request.user, group_id=group_id)
    require_group(membership, GroupAction.LIST_SESSIONS)
    return render(request, "sessions/group_tab.html", {"group": membership.group, "membership": membership})
