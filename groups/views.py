"""Group pages. Every rule lives in groups.services / groups.permissions; these only route and give feedback."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from quizsite.errors import InvalidInput

from . import selectors, services
from .forms import AddMemberForm, ChangeRoleForm, GroupForm, GroupSettingsForm
from .models import Role
from .permissions import (
    GroupAction,
    access_group,
    can_group,
    can_remove_member,
    can_set_role,
    get_membership,
    require_group,
)


def _attach_error(form, error: InvalidInput) -> None:
    form.add_error(error.field if error.field in form.fields else None, error.message)


@login_required
def group_list(request):
    groups = selectors.list_groups_for_user(user=request.user)
    return render(request, "groups/list.html", {"groups": groups})


@login_required
@require_http_methods(["GET", "POST"])
def group_create(request):
    form = GroupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            group = services.create_group(
                name=form.cleaned_data["name"],
                description=form.cleaned_data["description"],
                created_by=request.user,
            )
        except InvalidInput as error:
            _attach_error(form, error)
        else:
            messages.success(request, f"{group.name} is ready. Invite people from the Members tab.")
            return redirect("sessions:group", group.id)
    return render(request, "groups/create.html", {"form": form})


def _render_members(request, membership, *, add_form=None, settings_form=None):
    group = membership.group
    can_manage = can_group(membership, GroupAction.MANAGE_MEMBERS)
    can_grant_admin = can_group(membership, GroupAction.GRANT_ADMIN)
    rows = []
    for member in selectors.list_members(group=group):
        assignable = [(value, label) for value, label in Role.choices if can_set_role(membership, member, value)]
        rows.append(
            {
                "member": member,
                "is_me": member.user_id == membership.user_id,
                "can_remove": can_remove_member(membership, member),
                # A select offering only the current role changes nothing: show a badge instead.
                "assignable_roles": assignable if len(assignable) > 1 else [],
            }
        )
    context = {
        "group": group,
        "membership": membership,
        "active_tab": "members",
        "member_count": len(rows),
        "rows": rows,
        "can_manage": can_manage,
        "can_edit": can_group(membership, GroupAction.EDIT),
    }
    if can_manage:
        context["add_form"] = add_form or AddMemberForm(can_grant_admin=can_grant_admin)
        context["invite_url"] = request.build_absolute_uri(reverse("groups:join", args=[group.invite_token]))
    if context["can_edit"]:
        context["settings_form"] = settings_form or GroupSettingsForm(instance=group)
    return render(request, "groups/members.html", context)


@login_required
def members(request, group_id: int):
    membership = access_group(user=request.user, group_id=group_id)
    return _render_members(request, membership)


@login_required
@require_POST
def add_member(request, group_id: int):
    membership = access_group(user=request.user, group_id=group_id)
    require_group(membership, GroupAction.MANAGE_MEMBERS)
    form = AddMemberForm(request.POST, can_grant_admin=can_group(membership, GroupAction.GRANT_ADMIN))
    if form.is_valid():
        try:
            added = services.add_member(actor=membership, **form.cleaned_data)
        except InvalidInput as error:
            _attach_error(form, error)
        else:
            messages.success(request, f"{added.user.username} joined as {added.get_role_display().lower()}.")
            return redirect("groups:members", group_id)
    messages.error(request, "The member could not be added.")
    return _render_members(request, membership, add_form=form)


@login_required
@require_POST
def change_role(request, group_id: int, user_id: int):
    membership = access_group(user=request.user, group_id=group_id)
    form = ChangeRoleForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose owner, admin or member.")
        return redirect("groups:members", group_id)
    try:
        changed = services.change_role(actor=membership, user_id=user_id, role=form.cleaned_data["role"])
    except InvalidInput as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"{changed.user.username} is now {changed.get_role_display().lower()}.")
    return redirect("groups:members", group_id)


@login_required
@require_POST
def remove_member(request, group_id: int, user_id: int):
    membership = access_group(user=request.user, group_id=group_id)
    leaving = user_id == membership.user_id
    try:
        services.remove_member(actor=membership, user_id=user_id)
    except InvalidInput as error:
        messages.error(request, error.message)
        return redirect("groups:members", group_id)
    if leaving:
        messages.success(request, f"You left {membership.group.name}.")
        return redirect("groups:list")
    messages.success(request, "The member was removed from the group.")
    return redirect("groups:members", group_id)


@login_required
@require_POST
def regenerate_invite(request, group_id: int):
    membership = access_group(user=request.user, group_id=group_id)
    services.regenerate_invite(actor=membership)
    messages.success(request, "A new invite link was made; the old one no longer works.")
    return redirect("groups:members", group_id)


@login_required
@require_POST
def update_settings(request, group_id: int):
    membership = access_group(user=request.user, group_id=group_id)
    require_group(membership, GroupAction.EDIT)
    form = GroupSettingsForm(request.POST)
    if form.is_valid():
        try:
            services.update_group(actor=membership, **form.cleaned_data)
        except InvalidInput as error:
            _attach_error(form, error)
        else:
            messages.success(request, "Group settings saved.")
            return redirect("groups:members", group_id)
    messages.error(request, "The settings could not be saved.")
    return _render_members(request, membership, settings_form=form)


@login_required
@require_http_methods(["GET", "POST"])
def join(request, invite_token: str):
    group = selectors.get_group_by_invite(invite_token=invite_token)
    if get_membership(user=request.user, group_id=group.id) is not None:
        messages.info(request, f"You are already a member of {group.name}.")
        return redirect("sessions:group", group.id)
    if request.method == "POST":
        services.join_by_invite(user=request.user, invite_token=invite_token)
        messages.success(request, f"Welcome to {group.name}!")
        return redirect("sessions:group", group.id)
    return render(request, "groups/join.html", {"group": group})
