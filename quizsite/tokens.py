import secrets


def new_share_token() -> str:
    """A URL-safe token with 192 bits of randomness: unguessable, short enough for a link."""
    return secrets.token_urlsafe(24)
