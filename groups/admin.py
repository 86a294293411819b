from django.contrib import admin
from django.db.models import Count

from .models import Group, Membership


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]
    readonly_fields = ["joined_at"]
    fields = ["user", "role", "joined_at"]


@admin.register(Group)
class GroupAdmin(admin.ModelAdmin):
    list_display = ["name", "member_count", "members_can_create_sessions", "created_by", "created_at"]
    list_filter = ["members_can_create_sessions", "created_at"]
    search_fields = ["name", "description", "created_by__username"]
    list_select_related = ["created_by"]
    readonly_fields = ["invite_token", "created_at"]
    autocomplete_fields = ["created_by"]
    date_hierarchy = "created_at"
    inlines = [MembershipInline]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(member_count=Count("memberships"))

    @admin.display(description="Members", ordering="member_count")
    def member_count(self, group):
        return group.member_count


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "group", "role", "joined_at"]
    list_filter = ["role", "joined_at"]
    search_fields = ["user__username", "user__email", "group__name"]
    list_select_related = ["user", "group"]
    autocomplete_fields = ["user", "group"]
    readonly_fields = ["joined_at"]
