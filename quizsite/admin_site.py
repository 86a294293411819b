"""The admin site: staff work across every group, so their admin requests run under an audited bypass of
row-level security (quizsite.rls). Installed as the default site by `AdminConfig` (settings.INSTALLED_APPS)."""

from functools import wraps

from django.contrib import admin
from django.contrib.admin.apps import AdminConfig as DjangoAdminConfig

from quizsite.rls import rls_bypass


class AdminSite(admin.AdminSite):
    def admin_view(self, view, cacheable=False):
        checked = super().admin_view(view, cacheable)

        @wraps(view)
        def bypassed(request, *args, **kwargs):
            # Only once the admin's own check (active staff) passes: the sign-in redirect needs no rows.
            if not self.has_permission(request):
                return checked(request, *args, **kwargs)
            with rls_bypass(f"admin: {request.user.get_username()} {request.method} {request.path}"):
                response = checked(request, *args, **kwargs)
                # A TemplateResponse reads its querysets while rendering: do it while the bypass holds.
                if hasattr(response, "render") and callable(response.render):
                    response.render()
                return response

        return bypassed


class AdminConfig(DjangoAdminConfig):
    default_site = "quizsite.admin_site.AdminSite"
