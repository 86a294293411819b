from django.urls import re_path


def api_path(route: str, view, name: str | None = None):
    """A route that answers with and without a trailing slash alike (the contract forbids redirects).

    `route` uses Django's `<int:x>` / `<str:x>` converters for the common cases, translated to a regex.
    """
    import re

    pattern = re.sub(r"<int:(\w+)>", r"(?P<\1>[0-9]+)", route)
    pattern = re.sub(r"<str:(\w+)>", r"(?P<\1>[^/]+)", pattern)
    return re_path(rf"^{pattern}/?$", view, name=name)
