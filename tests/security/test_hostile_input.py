"""Hostile input gets a 400 (or the form's own error), never a 500; markup is stored as given and shown as
text.

Covered: HTML/JS in every free-text field, NUL characters (PostgreSQL text cannot hold them) and lone
surrogates, absurdly long strings, 10,000-deep JSON, bodies over the size cap, wrong content types,
malformed encodings, out-of-range numbers. The browser half (no script runs) is
tests/browser/test_security_hostile_content.py.
"""

import codecs
import json
from urllib.parse import urlencode

import pytest
from django.test import Client

from groups.models import Group
from questions.models import Attempt, Question, QuestionSet
from sessions.models import GroupSession
from tests.factories import PASSWORD

from .conftest import api_client, page_client

XSS = '<img src=x onerror="window.__pwned=1"><script>window.__pwned=1</script>"\'><svg onload=alert(1)>'
ESCAPED = "&lt;img src=x onerror=&quot;window.__pwned=1&quot;&gt;&lt;script&gt;"
QUESTION = {"prompt": "Capital of France?", "choices": ["Lyon", "Paris"], "answer": 1}


def _sessions_url(world):
    return f"/api/groups/{world['group'].pk}/sessions"


def _question_set_body(**question):
    return {"title": "Set", "questions": [{**QUESTION, **question}]}


def _session_body(world, **fields):
    return {"session_type": "instant", "questions": [QUESTION], **fields}


def _endpoints(world):
    """(name, url, a valid body) of every API endpoint that takes a body."""
    session = world["session"]
    return [
        ("auth token", "/api/auth/token", {"username": "olivia_owner", "password": PASSWORD}),
        ("create group", "/api/groups", {"name": "Physics"}),
        ("add member", f"/api/groups/{world['group'].pk}/members", {"username": "nina_newcomer"}),
        ("share questions", "/api/question-sets", _question_set_body()),
        ("create session", _sessions_url(world), _session_body(world)),
        (
            "extension create",
            "/api/extension/create-group-session",
            {"group_id": world["group"].pk, **_session_body(world)},
        ),
        ("edit session", f"{_sessions_url(world)}/{session.pk}", {"title": "Renamed"}),
        ("submit group", f"/api/questions/{session.share_token}/submit", {"answers": []}),
        ("submit set", f"/api/questions/{world['question_set'].token}/submit", {"answers": []}),
    ]


def _send(client, url, content, content_type="application/json"):
    method = client.patch if "/sessions/" in url else client.post
    return method(url, content, content_type=content_type)


# --- Markup is data ----------------------------------------------------------------------------------


def test_markup_in_every_text_field_is_stored_exactly_as_given_and_escaped_on_pages(world):
    owner = api_client(world, "owner")
    group = owner.post("/api/groups", {"name": XSS[:100], "description": XSS}, format="json").json()
    question = {"prompt": XSS, "choices": [XSS, "Paris"], "answer": 1, "explanation": XSS}
    created = owner.post(
        f"/api/groups/{group['id']}/sessions",
        {"title": XSS[:200], "session_type": "instant", "questions": [question], "loop_data": {"note": XSS}},
        format="json",
    )
    shared = owner.post("/api/question-sets", {"title": XSS[:200], "questions": [question]}, format="json")

    assert created.status_code == 201 and shared.status_code == 201
    session = GroupSession.objects.get(pk=created.json()["id"])
    assert Group.objects.get(pk=group["id"]).description == XSS
    assert (session.title, session.loop_data) == (XSS[:200], {"note": XSS})
    assert session.questions_data[0]["prompt"] == XSS
    assert Question.objects.get(question_set__token=shared.json()["token"]).explanation == XSS
    assert created.json()["loop_data"] == {"note": XSS}

    pages = page_client(world, "owner")
    for url in (
        "/groups/",
        f"/groups/{group['id']}",
        f"/groups/{group['id']}/members",
        f"/groups/{group['id']}/sessions/{session.pk}",
        f"{session.join_url}",
        f"/questions/{shared.json()['token']}",
    ):
        html = pages.get(url).content.decode()
        assert ESCAPED[:40] in html, url
        assert "<img src=x" not in html and "<script>window.__pwned" not in html, url


def test_a_display_name_with_markup_is_stored_as_given_and_shown_as_text(world):
    client = Client()
    token = world["question_set"].token
    questions = client.get(f"/api/questions/{token}").json()["questions"]

    response = client.post(f"/questions/{token}", {"display_name": XSS[:100], f"question_{questions[0]['id']}": "0"})

    attempt = Attempt.objects.get(display_name=XSS[:100])
    html = client.get(response.url).content.decode()
    assert f"/results/{attempt.pk}" in response.url
    assert "<img src=x" not in html


# --- NUL characters, lone surrogates and other Unicode -------------------------------------------------


@pytest.mark.parametrize(
    "text",
    ["nul \u0000 inside", "\ud800 lone surrogate", "\udfff", "ok\u0000"],
    ids=["nul", "high-surrogate", "low-surrogate", "trailing-nul"],
)
def test_nul_and_lone_surrogates_in_any_string_field_are_400(world, text):
    owner = api_client(world, "owner")
    cases = {
        "group name": ("/api/groups", {"name": text}),
        "group description": ("/api/groups", {"name": "G", "description": text}),
        "member username": (f"/api/groups/{world['group'].pk}/members", {"username": text}),
        "set title": ("/api/question-sets", {**_question_set_body(), "title": text}),
        "prompt": ("/api/question-sets", _question_set_body(prompt=text)),
        "choice": ("/api/question-sets", _question_set_body(choices=[text, "b"])),
        "explanation": ("/api/question-sets", _question_set_body(explanation=text)),
        "source url": ("/api/question-sets", {**_question_set_body(), "source_url": f"https://x.org/{text}"}),
        "session title": (_sessions_url(world), _session_body(world, title=text)),
        "share token": (_sessions_url(world), {"session_type": "instant", "share_token": text}),
        "loop_data value": (_sessions_url(world), _session_body(world, loop_data={"note": text})),
        "loop_data key": (_sessions_url(world), _session_body(world, loop_data={text: 1})),
        "loop_data deep": (_sessions_url(world), _session_body(world, loop_data={"a": [{"b": [text]}]})),
        "display name": (f"/api/questions/{world['question_set'].token}/submit", {"answers": [], "display_name": text}),
        "token username": ("/api/auth/token", {"username": text, "password": "x"}),
        "token password": ("/api/auth/token", {"username": "olivia_owner", "password": text}),
    }
    # json.dumps writes both as \u escapes, exactly what a client would send.
    got = {name: _send(owner, url, json.dumps(body)).status_code for name, (url, body) in cases.items()}

    assert got == dict.fromkeys(cases, 400)


def test_unusual_but_valid_unicode_is_kept_exactly(world):
    text = "Zero\u200bwidth, RTL \u202eevil\u202c, emoji 🧬👩🏽‍🔬, combining e\u0301, CJK 細胞, \U0010fffd"
    response = api_client(world, "owner").post(
        "/api/question-sets", _question_set_body(prompt=text, choices=[text, "b"]), format="json"
    )

    assert response.status_code == 201
    assert Question.objects.get(question_set__token=response.json()["token"]).prompt == text


@pytest.mark.parametrize(
    "path",
    [
        "/api/questions/%00abc",
        "/api/questions/%00abc/submit",
        "/questions/%00abc",
        "/groups/join/%00abc",
        "/questions/abc/results/1?x=%00",
        "/api/user/groups?page=%00",
        "/groups/?%00=1",
    ],
)
def test_nul_in_the_path_or_query_is_400(world, path):
    for client in (api_client(world, "owner"), page_client(world, "owner"), Client()):
        response = client.post(path, {}) if path.endswith("/submit") else client.get(path)
        assert response.status_code == 400, (path, response.status_code)


def test_nul_in_a_cookie_or_the_credentials_is_400(world):
    # Django unquotes \\000 in a quoted cookie value into a NUL.
    assert Client(HTTP_COOKIE='sessionid="\\000abcdefghijklmnop"').get("/groups/").status_code == 400
    assert Client(HTTP_AUTHORIZATION="Token \x00abc").get("/api/user/groups").status_code == 400


# --- Size and shape ----------------------------------------------------------------------------------


def test_very_long_strings_are_400_naming_the_field(world):
    owner = api_client(world, "owner")
    long = "x" * 100_000

    cases = {
        "title": ("/api/question-sets", {**_question_set_body(), "title": long}),
        "prompt": ("/api/question-sets", _question_set_body(prompt=long)),
        "name": ("/api/groups", {"name": long}),
        "loop_data": (_sessions_url(world), _session_body(world, loop_data={"note": long})),
        "display_name": (f"/api/questions/{world['question_set'].token}/submit", {"answers": [], "display_name": long}),
    }
    for field, (url, body) in cases.items():
        response = owner.post(url, body, format="json")
        assert response.status_code == 400, field
        assert field in json.dumps(response.json()), (field, response.json())


def test_ten_thousand_nested_lists_are_400(world):
    deep = "[" * 10_000 + "]" * 10_000
    owner = api_client(world, "owner")
    raw = json.dumps(_session_body(world, loop_data={"a": "DEEP"})).replace('"DEEP"', deep)

    assert _send(owner, _sessions_url(world), raw).status_code == 400
    assert _send(owner, "/api/question-sets", deep).status_code == 400
    assert _send(owner, f"/api/questions/{world['question_set'].token}/submit", deep).status_code == 400
    assert not GroupSession.objects.filter(loop_data__has_key="a").exists()


def test_loop_data_nested_within_the_parser_limit_but_over_the_size_cap_is_400(world):
    nested = {"a": [[[[[[[[[[{"b": "y" * 2000}]]]]]]]]]] * 10}
    response = api_client(world, "owner").post(
        _sessions_url(world), _session_body(world, loop_data=nested), format="json"
    )

    assert response.status_code == 400
    assert "loop_data" in response.json()


def test_every_body_over_the_size_cap_is_400_and_writes_nothing(world, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 64 * 1024
    owner = api_client(world, "owner")
    before = (GroupSession.objects.count(), QuestionSet.objects.count(), Group.objects.count())

    for name, url, body in _endpoints(world):
        padded = json.dumps({**body, "padding": "p" * (65 * 1024)})
        response = _send(owner, url, padded)
        assert response.status_code == 400, name
        assert response.json() == {"non_field_errors": ["Request body is too large."]}, name

    assert (GroupSession.objects.count(), QuestionSet.objects.count(), Group.objects.count()) == before


def test_the_default_size_cap_is_a_few_megabytes(world, settings):
    assert 1024 * 1024 <= settings.DATA_UPLOAD_MAX_MEMORY_SIZE <= 10 * 1024 * 1024
    body = json.dumps({**_question_set_body(), "padding": "p" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)})
    assert _send(api_client(world, "owner"), "/api/question-sets", body).status_code == 400


def _multipart(body):
    parts = "".join(
        f'--b\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n{value}\r\n' for key, value in body.items()
    )
    return parts + "--b--\r\n", "multipart/form-data; boundary=b"


WRONG_TYPES = {
    "form": lambda body: (urlencode(body, doseq=True), "application/x-www-form-urlencoded"),
    "multipart": _multipart,
    "text": lambda body: (json.dumps(body), "text/plain"),
    "xml": lambda body: (json.dumps(body), "application/xml"),
    "octet-stream": lambda body: (json.dumps(body), "application/octet-stream"),
    "json bz2 charset": lambda body: (
        codecs.encode(json.dumps(body).encode(), "bz2_codec"),
        "application/json; charset=bz2_codec",
    ),
    "json utf-16 bom": lambda body: (json.dumps(body).encode("utf-16"), "application/json"),
}


@pytest.mark.parametrize("encode", WRONG_TYPES.values(), ids=WRONG_TYPES.keys())
def test_a_valid_body_sent_as_another_content_type_is_400_on_every_endpoint(world, encode):
    owner = api_client(world, "owner")
    got = {name: _send(owner, url, *encode(body)).status_code for name, url, body in _endpoints(world)}

    assert got == dict.fromkeys(got, 400)


@pytest.mark.parametrize(
    "content",
    [
        b'{"title": "\xff\xfe not utf-8"}',
        '{"title": "Set",',
        '{"title": NaN}',
        '{"a": Infinity}',
        "null",
        '"text"',
        "[1]",
    ],
)
def test_malformed_json_is_400_on_every_endpoint(world, content):
    owner = api_client(world, "owner")
    got = {name: _send(owner, url, content).status_code for name, url, _ in _endpoints(world)}

    assert got == dict.fromkeys(got, 400)


def test_an_empty_body_is_400_except_for_an_edit_that_changes_nothing(world):
    owner = api_client(world, "owner")
    got = {name: _send(owner, url, "").status_code for name, url, _ in _endpoints(world)}

    assert got == dict.fromkeys(got, 400) | {"edit session": 200}


def test_out_of_range_numbers_are_400_or_404_never_500(world):
    owner = api_client(world, "owner")
    huge, session = 10**30, world["session"]
    submit = f"/api/questions/{session.share_token}/submit"
    cases = {
        "group id in body": ("post", "/api/extension/create-group-session", {**_session_body(world), "group_id": huge}),
        "group id in path": ("get", f"/api/groups/{huge}/sessions", None),
        "session id in path": ("get", f"{_sessions_url(world)}/{huge}", None),
        "user id in path": ("delete", f"/api/groups/{world['group'].pk}/members/{huge}", None),
        "page": ("get", f"{_sessions_url(world)}?page={huge}", None),
        "negative page": ("get", f"{_sessions_url(world)}?page=-1", None),
        "duration": ("post", _sessions_url(world), _session_body(world, duration_minutes=huge)),
        "answer index": ("post", "/api/question-sets", _question_set_body(answer=huge)),
        "question id": ("post", submit, {"answers": [{"question_id": huge, "choice": 0}]}),
        "choice": ("post", submit, {"answers": [{"question_id": 1, "choice": -huge}]}),
        "round": ("post", submit, {"answers": [], "round": huge}),
        "join link ids": ("get", f"/api/questions/{session.share_token}?groupId={huge}&sessionId={huge}", None),
        "float id": ("post", "/api/extension/create-group-session", {**_session_body(world), "group_id": 1.5}),
        "bool duration": ("post", _sessions_url(world), _session_body(world, duration_minutes=True)),
    }
    got = {}
    for name, (method, url, body) in cases.items():
        response = getattr(owner, method)(url, body, format="json") if body else getattr(owner, method)(url)
        got[name] = response.status_code

    assert set(got.values()) <= {400, 404}, got


# --- The same through the forms ------------------------------------------------------------------------


def test_forms_answer_hostile_values_with_their_own_errors(world):
    client = page_client(world, "owner")
    group = world["group"].pk
    nul = "bad\x00value"
    posts = {
        "new group": ("/groups/new", {"name": nul, "description": nul}),
        "settings": (f"/groups/{group}/settings", {"name": nul, "description": "x" * 10_000}),
        "add member": (f"/groups/{group}/members/add", {"username": nul, "role": "member"}),
        "change role": (f"/groups/{group}/members/{world['member'].pk}/role", {"role": nul}),
        "new session": (
            f"/groups/{group}/sessions/new",
            {"source": "text", "questions_text": nul, "title": nul, "session_type": "instant", "timezone": nul},
        ),
        "session from share": (
            f"/groups/{group}/sessions/new",
            {"source": "share", "share": f"/questions/{nul}", "session_type": "scheduled", "scheduled_at": nul},
        ),
        "preview": (f"/groups/{group}/sessions/preview", {"source": "set", "question_set": nul}),
        "edit": (f"/groups/{group}/sessions/{world['session'].pk}/edit", {"title": nul, "duration_minutes": "1e9"}),
        "play": (world["session"].join_url, {"round": nul, "question_1": nul}),
        "individual quiz": (f"/questions/{world['question_set'].token}", {"display_name": nul, "question_1": "9" * 40}),
        "sign in": ("/account/login", {"username": nul, "password": nul}),
        "sign up": ("/account/signup", {"username": nul, "email": nul, "password1": nul, "password2": nul}),
    }
    got = {name: client.post(url, data).status_code for name, (url, data) in posts.items()}

    assert all(status < 500 for status in got.values()), got
    assert "Null characters are not allowed." in client.post("/groups/new", {"name": nul}).content.decode()
