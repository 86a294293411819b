"""Writes to a person's account."""

from django.db import transaction
from rest_framework.authtoken.models import Token


@transaction.atomic
def get_or_create_api_token(*, user) -> Token:
    token, _ = Token.objects.get_or_create(user=user)
    return token


@transaction.atomic
def regenerate_api_token(*, user) -> Token:
    """A fresh key; the old one stops working at once (the extension must be given the new one)."""
    Token.objects.filter(user=user).delete()
    return Token.objects.create(user=user)
