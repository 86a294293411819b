import hashlib
import logging

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import REDIRECT_FIELD_NAME, login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.forms.utils import ErrorDict
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods

from .forms import SignUpForm
from .services import get_or_create_api_token, regenerate_api_token

logger = logging.getLogger(__name__)

SIGN_IN_THROTTLED = "Too many failed sign-in attempts. Wait a few minutes, then try again."


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


def sign_in_throttled(request, username: str, *, failed: bool = False) -> bool:
    """Whether sign-in is locked for this username from this address (or for the address altogether);
    `failed=True` first counts one more failed attempt. Counts live in the cache for
    LOGIN_FAILURE_WINDOW_SECONDS from the first failure; with the cache down nobody is locked out."""
    address = request.META.get("REMOTE_ADDR", "")
    account = hashlib.sha256(f"{address}|{username.strip().casefold()}".encode("utf-8", "replace")).hexdigest()
    limits = {
        f"signin-fail:{account}": settings.LOGIN_FAILURE_LIMIT,
        f"signin-fail:{address}": 10 * settings.LOGIN_FAILURE_LIMIT,
    }
    try:
        if failed:
            for key in limits:
                # add() starts the window; incr() never moves it, so waiting it out always unlocks.
                if not cache.add(key, 1, timeout=settings.LOGIN_FAILURE_WINDOW_SECONDS):
                    cache.incr(key)
        counts = cache.get_many(list(limits))
    except Exception as error:  # any cache failure: fail open rather than lock everyone out
        logger.warning("sign-in throttle unavailable: %s", error)
        return False
    return any(counts.get(key, 0) >= limit for key, limit in limits.items())


class LoginView(auth_views.LoginView):
    redirect_authenticated_user = True

    def post(self, request, *args, **kwargs):
        if sign_in_throttled(request, request.POST.get("username", "")):
            # Refused whatever the password: a right guess must look the same as a wrong one now.
            form = self.get_form()
            # Not validated: validating would check the password.
            form._errors, form.cleaned_data = ErrorDict(), {}
            form.add_error(None, SIGN_IN_THROTTLED)
            return self.render_to_response(self.get_context_data(form=form), status=429)
        return super().post(request, *args, **kwargs)

    def form_invalid(self, form):
        sign_in_throttled(self.request, self.request.POST.get("username", ""), failed=True)
        return super().form_invalid(form)

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
