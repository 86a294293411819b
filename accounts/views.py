from django.contrib import messages
from django.contrib.auth import REDIRECT_FIELD_NAME, login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods

from .forms import SignUpForm
from .services import get_or_create_api_token, regenerate_api_token


def home(request):
    if request.user.is_authenticated:
        return redirect("groups:list")
    return render(request, "home.html")


def _safe_next(request) -> str:
    candidate = request.POST.get(REDIRECT_FIELD_NAME) or request.GET.get(REDIRECT_FIELD_NAME) or ""
    allowed = url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return candidate if allowed else ""


@require_http_methods(["GET", "POST"])
def signup(request):
    next_url = _safe_next(request)
    if request.user.is_authenticated:
        return redirect(next_url or "groups:list")
    form = SignUpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(request, f"Welcome to quizsite, {user.username}!")
        return redirect(next_url or "groups:list")
    return render(request, "accounts/signup.html", {"form": form, "next": next_url})


class LoginView(auth_views.LoginView):
    redirect_authenticated_user = True

    def form_valid(self, form):
        response = super().form_valid(form)
        messages.success(self.request, f"Signed in as {form.get_user().username}.")
        return response


class LogoutView(auth_views.LogoutView):
    def post(self, request, *args, **kwargs):
        response = super().post(request, *args, **kwargs)
        messages.info(request, "You have signed out.")
        return response


@login_required
@require_http_methods(["GET", "POST"])
def api_token(request):
    if request.method == "POST":
        regenerate_api_token(user=request.user)
        messages.success(request, "Your API token was regenerated. Update it in the browser extension.")
        return redirect("accounts:token")
    token = get_or_create_api_token(user=request.user)
    return render(request, "accounts/token.html", {"token": token})
