from django.shortcuts import render

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
