"""Test clients that share one loaded handler: loading the middleware (WhiteNoise scans the static files)
costs ~0.2 s per new client, and these tests make hundreds of clients."""

from django.test import Client
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

_handlers: dict[tuple, object] = {}


def _shared_handler(client, enforce_csrf_checks: bool = False):
    kind = (type(client.handler), enforce_csrf_checks)
    client.handler = _handlers.setdefault(kind, client.handler)
    return client


def browser_client(user=None, *, enforce_csrf_checks: bool = False) -> Client:
    """A page client signed in as `user` (or signed out)."""
    client = _shared_handler(Client(enforce_csrf_checks=enforce_csrf_checks), enforce_csrf_checks)
    if user is not None:
        client.force_login(user)
    return client


def extension_client(user=None) -> APIClient:
    """An API client sending `user`'s token the way the extension does (nothing when signed out)."""
    client = _shared_handler(APIClient())
    if user is not None:
        token, _ = Token.objects.get_or_create(user=user)
        client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client
