"""The production configuration: `manage.py check --deploy` is clean and the security headers are sent.

Production settings are read once at start-up, so these run Django in a subprocess with the environment
a deployment would have (DEBUG=0, a real SECRET_KEY, ALLOWED_HOSTS, behind a TLS-terminating proxy).
"""

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client

BASE_DIR = Path(settings.BASE_DIR)
HOST = "quiz.example.org"


def production_env() -> dict:
    # The test run's own switches (async-unsafe for live_server, DEBUG) are no part of a deployment.
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DEBUG", "SECURE_", "DJANGO_ALLOW_ASYNC_UNSAFE"))
    }
    env.update(
        DJANGO_SETTINGS_MODULE="quizsite.settings",
        DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS=HOST,
        CSRF_TRUSTED_ORIGINS=f"https://{HOST}",
        # Nothing listens there: production must still answer while Redis is unreachable.
        REDIS_URL="redis://127.0.0.1:1/0",
    )
    return env


def test_production_settings_pass_check_deploy_without_a_single_warning():
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=BASE_DIR,
        env=production_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


PROBE = """
import json
import django
django.setup()
from django.conf import settings
from django.test import Client

secure = Client(HTTP_HOST="%(host)s", HTTP_X_FORWARDED_PROTO="https")
plain = Client(HTTP_HOST="%(host)s")
api = secure.get("/api/user/groups")
print(json.dumps({
    "api": {"status": api.status_code, "headers": dict(api.headers)},
    "plain": {"status": plain.get("/api/user/groups").status_code,
              "location": plain.get("/api/user/groups").headers.get("Location")},
    "plain healthz": plain.get("/healthz").status_code,
    "cookies": {"session": settings.SESSION_COOKIE_SECURE, "csrf": settings.CSRF_COOKIE_SECURE,
                "httponly": settings.SESSION_COOKIE_HTTPONLY},
    "debug": settings.DEBUG,
    "cache": settings.CACHES["default"]["BACKEND"],
}))
"""


@pytest.fixture(scope="module")
def production(django_db_setup):
    database = connection.settings_dict
    result = subprocess.run(
        [sys.executable, "-c", PROBE % {"host": HOST}],
        cwd=BASE_DIR,
        env={
            **production_env(),
            "DATABASE_URL": f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/{database['NAME']}",
        },
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_production_sends_hsts_csp_and_frame_denial_over_https(production):
    headers = {name.lower(): value for name, value in production["api"]["headers"].items()}

    assert production["debug"] is False
    assert production["api"]["status"] == 401
    assert headers["strict-transport-security"] == "max-age=31536000; includeSubDomains; preload"
    assert headers["x-frame-options"] == "DENY"
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "same-origin"
    assert headers["content-security-policy"] == settings.CONTENT_SECURITY_POLICY


def test_production_redirects_plain_http_but_lets_health_probes_through(production):
    assert production["plain"] == {"status": 301, "location": f"https://{HOST}/api/user/groups"}
    assert production["plain healthz"] == 200


def test_production_cookies_are_secure_and_the_session_cookie_is_out_of_reach_of_scripts(production):
    assert production["cookies"] == {"session": True, "csrf": True, "httponly": True}


def test_production_uses_the_cache_that_outlives_a_redis_outage(production):
    assert production["cache"] == "quizsite.cache.TolerantRedisCache"


def _directives(policy: str) -> dict[str, list[str]]:
    return {part.split()[0]: part.split()[1:] for part in policy.split(";") if part.strip()}


def test_the_content_security_policy_allows_no_inline_script_style_attribute_or_framing():
    policy = _directives(settings.CONTENT_SECURITY_POLICY)

    assert policy["script-src"] == ["'self'"]
    assert policy["style-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["base-uri"] == ["'self'"]
    assert policy["form-action"] == ["'self'"]
    assert not any("unsafe" in source for sources in policy.values() for source in sources)


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/", "/account/login", "/api/docs", "/api/schema", "/healthz", "/groups/", "/nope"])
def test_every_response_carries_the_policy_and_the_frame_denial(path):
    response = Client().get(path)

    assert response["Content-Security-Policy"] == settings.CONTENT_SECURITY_POLICY
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
