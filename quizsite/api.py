"""Project-wide API plumbing: error mapping shared by every DRF view."""

from django.core.exceptions import RequestDataTooBig
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from quizsite.errors import DomainError


def exception_handler(exc, context):
    """Map domain errors to their status codes; everything else follows DRF's shape."""
    if isinstance(exc, DomainError):
        return Response(exc.as_payload(), status=exc.status_code)
    if isinstance(exc, RequestDataTooBig):
        return Response({"non_field_errors": ["Request body is too large."]}, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, exceptions.ParseError):
        return Response({"non_field_errors": [f"Malformed request body: {exc.detail}"]}, status=400)
    if isinstance(exc, exceptions.UnsupportedMediaType):
        # The contract maps every bad body to 400.
        return Response({"non_field_errors": [str(exc.detail)]}, status=400)
    if isinstance(exc, exceptions.NotAuthenticated | exceptions.AuthenticationFailed):
        response = drf_exception_handler(exc, context)
        if response is not None:
            response.status_code = status.HTTP_401_UNAUTHORIZED
        return response
    if isinstance(exc, Http404):
        return Response({"detail": "Not found."}, status=status.HTTP_404_NOT_FOUND)
    return drf_exception_handler(exc, context)
