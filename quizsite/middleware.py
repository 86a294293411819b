from django.conf import settings
from django.contrib.auth.middleware import get_user
from django.http import JsonResponse
from django.shortcuts import render

from quizsite import rls
from quizsite.errors import DomainError, NotFound


class DomainErrorMiddleware:
    """Pages raise the same domain errors as the API; here they become a finished error page.

    (DRF views map them in quizsite.api.exception_handler before they reach this.)
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, DomainError):
            return None
        if isinstance(exception, NotFound):
            return render(request, "404.html", status=404)
        return render(
            request,
            "error.html",
            {"status": exception.status_code, "message": exception.message},
            status=exception.status_code,
        )


class ContentSecurityPolicyMiddleware:
    """Send `settings.CONTENT_SECURITY_POLICY` with every response that has none of its own.

    Django 5.2 has no CSP support of its own. The policy allows no inline script and no inline style
    attributes, so markup that slips through escaping still cannot run; templates keep every script and
    style in static files.
    """

    def __init__(self, get_response):
        self.get_response = get_response
        self.policy = settings.CONTENT_SECURITY_POLICY

    def __call__(self, request):
        response = self.get_response(request)
        if self.policy:
            response.headers.setdefault("Content-Security-Policy", self.policy)
        return response


class RejectNullCharactersMiddleware:
    """A NUL character in the path, the query, a cookie or the credentials is a 400, before any view runs.

    PostgreSQL text cannot hold NUL, so such a value would reach the database only to fail there as a
    500 (a share token looked up by path, a session key read from its cookie, an API key). Forms and
    serializers reject NUL in bodies themselves; this covers what arrives outside them.
    """

    MESSAGE = "The request contains a NUL character."

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if self._has_nul(request):
            return self._bad_request(request)
        return self.get_response(request)

    @staticmethod
    def _has_nul(request) -> bool:
        if "\x00" in request.path_info or "\x00" in request.META.get("HTTP_AUTHORIZATION", ""):
            return True
        for values in (request.GET.lists(), request.COOKIES.items()):
            for key, value in values:
                if "\x00" in key or any("\x00" in item for item in (value if isinstance(value, list) else [value])):
                    return True
        return False

    def _bad_request(self, request):
        if request.path_info.startswith("/api/"):
            return JsonResponse({"non_field_errors": [self.MESSAGE]}, status=400)
        return render(request, "error.html", {"status": 400, "message": self.MESSAGE}, status=400)


class RowLevelSecurityMiddleware:
    """Each request acts in the database as its user (row-level security, see quizsite.rls), and leaves
    nothing behind on the connection for the next request.

    A signed-in (cookie) user is set before the view runs, because a view may read protected rows before it
    asks who is signed in (sessions.play resolves a token first). A signed-out request costs nothing: no
    session cookie, no query. DRF's token authentication sets its user itself (quizsite.authentication),
    with no round trip of its own. Whatever was set is reset when the request ends, also when the view
    raised; a streamed body sets its user again while it is being sent, and resets after.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not rls.enabled():
            return self.get_response(request)
        with rls.scope():
            user = get_user(request)
            if user.is_authenticated:
                rls.set_user(user.pk)
            response = self.get_response(request)
            streamed_as = rls.current_user_id() if response.streaming and not response.is_async else None
        if streamed_as is not None:
            # The body is produced after this returns: it runs as the user again while it is being sent.
            response.streaming_content = _as_user(response.streaming_content, streamed_as)
        return response


def _as_user(content, user_id: int):
    with rls.scope(user_id):
        yield from content
