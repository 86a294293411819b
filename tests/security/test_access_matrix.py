"""Who gets what, for every page, htmx fragment, action and API route: a matrix generated from the URL
resolvers.

Every named route of the project must have a row in ROUTES (a new URL without one fails
`test_every_route_has_a_row`), and each row says the status each of the six callers gets: owner, admin,
member, creator (a member who created the session), the owner of another group, anonymous. Each caller's
request runs in a transaction that is rolled back afterwards, so one caller's delete does not change what
the next one sees. A refused request must leave the database as it was.

The rule of thumb the rows follow: outsiders get 404 for anything of the group (its existence is never
revealed), members whose role does not allow an action get 403, signed-out visitors are sent to sign in
(pages) or get 401 (API).
"""

from collections.abc import Callable
from dataclasses import dataclass, field, replace

import pytest
from django.db import transaction
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from groups.models import Group, Membership
from questions.models import Attempt, QuestionSet
from sessions.models import GroupSession, Participant

from .conftest import ROLES, api_client, page_client

SIGN_IN = 302  # login_required: off to the sign-in page


def expect(owner, admin, member, creator, outsider, anonymous) -> dict[str, int]:
    return dict(zip(ROLES, (owner, admin, member, creator, outsider, anonymous), strict=True))


EVERY_MEMBER = {"owner", "admin", "member", "creator"}


def members_only(ok: int, *, anonymous: int = SIGN_IN) -> dict[str, int]:
    return expect(ok, ok, ok, ok, 404, anonymous)


def allowed(ok: int, who: set[str], *, anonymous: int = SIGN_IN, refused: int = 403) -> dict[str, int]:
    return {role: ok if role in who else refused for role in EVERY_MEMBER} | {"outsider": 404, "anonymous": anonymous}


def signed_in(ok: int, *, anonymous: int = SIGN_IN) -> dict[str, int]:
    return expect(ok, ok, ok, ok, ok, anonymous)


@dataclass(frozen=True)
class Route:
    name: str
    method: str
    expected: dict[str, int]
    kwargs: Callable[[dict], dict] = lambda w: {}
    data: Callable[[dict], dict | None] = lambda w: None
    query: Callable[[dict], str] = lambda w: ""
    api: bool = False
    headers: dict = field(default_factory=dict)
    label: str = ""

    @property
    def id(self) -> str:
        return f"{self.method.upper()} {self.name}{' ' + self.label if self.label else ''}"


def group_kw(w):
    return {"group_id": w["group"].pk}


def session_kw(w):
    return {"group_id": w["group"].pk, "session_id": w["session"].pk}


def upcoming_kw(w):
    return {"group_id": w["group"].pk, "session_id": w["upcoming"].pk}


def member_kw(w):
    return {"group_id": w["group"].pk, "user_id": w["member"].pk}


def join_query(w):
    return f"?groupId={w['group'].pk}&sessionId={w['session'].pk}"


def token_kw(w):
    return {"token": w["session"].share_token}


def set_token_kw(w):
    return {"token": w["question_set"].token}


def session_body(w):
    return {"title": "Evening quiz", "session_type": "instant", "share_token": w["question_set"].token}


def questions_form(w):
    return {
        "source": "text",
        "questions_text": "Q: Two plus two?\n- 3\n* 4\n",
        "title": "Quick one",
        "session_type": "instant",
        "timezone": "UTC",
    }


HTMX = {"HTTP_HX_REQUEST": "true"}
HTMX_LIST = {**HTMX, "HTTP_HX_TARGET": "session-list"}
HTMX_LIVE = {**HTMX, "HTTP_HX_TARGET": "session-live"}
MANAGERS = {"owner", "admin"}
EDITORS = {"owner", "admin", "creator"}

ROUTES = [
    # --- Open to everyone ---------------------------------------------------------------------------
    Route("home", "get", expect(302, 302, 302, 302, 302, 200)),
    Route("healthz", "get", signed_in(200, anonymous=200)),
    Route("schema", "get", signed_in(200, anonymous=200)),
    Route("api-docs", "get", signed_in(200, anonymous=200)),
    Route("accounts:signup", "get", expect(302, 302, 302, 302, 302, 200)),
    Route("accounts:login", "get", expect(302, 302, 302, 302, 302, 200)),
    Route("accounts:logout", "post", signed_in(302, anonymous=302)),
    Route("accounts:token", "get", signed_in(200)),
    Route("accounts:token", "post", signed_in(302), label="regenerate"),
    # --- Group pages --------------------------------------------------------------------------------
    Route("groups:list", "get", signed_in(200)),
    Route("groups:create", "get", signed_in(200)),
    Route("groups:create", "post", signed_in(302), data=lambda w: {"name": "Physics"}),
    # Members are sent to the group; the owner of another group sees the join page.
    Route(
        "groups:join",
        "get",
        expect(302, 302, 302, 302, 200, SIGN_IN),
        kwargs=lambda w: {"invite_token": w["group"].invite_token},
    ),
    Route(
        "groups:join",
        "post",
        expect(302, 302, 302, 302, 302, SIGN_IN),
        kwargs=lambda w: {"invite_token": w["group"].invite_token},
    ),
    Route("groups:members", "get", members_only(200), kwargs=group_kw),
    Route(
        "groups:add_member",
        "post",
        allowed(302, MANAGERS),
        kwargs=group_kw,
        data=lambda w: {"username": w["newcomer"].username, "role": "member"},
    ),
    # Making someone an admin is for owners only.
    Route("groups:change_role", "post", allowed(302, {"owner"}), kwargs=member_kw, data=lambda w: {"role": "admin"}),
    # The member may leave (removing themselves); the creator may not remove someone else.
    Route("groups:remove_member", "post", allowed(302, {"owner", "admin", "member"}), kwargs=member_kw),
    Route("groups:regenerate_invite", "post", allowed(302, MANAGERS), kwargs=group_kw),
    Route(
        "groups:settings",
        "post",
        allowed(302, MANAGERS),
        kwargs=group_kw,
        data=lambda w: {"name": "Biology 102", "description": "", "members_can_create_sessions": "on"},
    ),
    # --- Sessions pages, fragments and htmx actions -------------------------------------------------
    Route("sessions:group", "get", members_only(200), kwargs=group_kw),
    Route("sessions:group", "get", members_only(200), kwargs=group_kw, headers=HTMX_LIST, label="htmx list"),
    Route("sessions:create", "get", members_only(200), kwargs=group_kw),
    Route("sessions:create", "get", members_only(200), kwargs=group_kw, headers=HTMX, label="htmx modal"),
    Route("sessions:create", "post", members_only(302), kwargs=group_kw, data=questions_form),
    Route(
        "sessions:create", "post", members_only(200), kwargs=group_kw, data=questions_form, headers=HTMX, label="htmx"
    ),
    Route("sessions:preview", "post", members_only(200), kwargs=group_kw, data=questions_form, headers=HTMX),
    Route("sessions:detail", "get", members_only(200), kwargs=session_kw),
    Route("sessions:detail", "get", members_only(200), kwargs=session_kw, headers=HTMX_LIVE, label="htmx live"),
    Route("sessions:edit", "get", allowed(200, EDITORS), kwargs=session_kw),
    Route("sessions:edit", "get", allowed(200, EDITORS), kwargs=session_kw, headers=HTMX, label="htmx modal"),
    Route(
        "sessions:edit",
        "post",
        allowed(302, EDITORS),
        kwargs=session_kw,
        data=lambda w: {"title": "Renamed", "duration_minutes": "30", "timezone": "UTC"},
    ),
    Route("sessions:start", "post", allowed(302, EDITORS), kwargs=upcoming_kw),
    Route("sessions:start", "post", allowed(204, EDITORS), kwargs=upcoming_kw, headers=HTMX, label="htmx"),
    Route("sessions:end", "post", allowed(302, EDITORS), kwargs=session_kw),
    Route("sessions:end", "post", allowed(204, EDITORS), kwargs=session_kw, headers=HTMX, label="htmx"),
    Route("sessions:cancel", "post", allowed(302, EDITORS), kwargs=upcoming_kw),
    Route("sessions:cancel", "post", allowed(204, EDITORS), kwargs=upcoming_kw, headers=HTMX, label="htmx"),
    # Deleting is for managers, even the creator may not.
    Route("sessions:delete", "post", allowed(302, MANAGERS), kwargs=session_kw),
    Route("sessions:delete", "post", allowed(204, MANAGERS), kwargs=session_kw, headers=HTMX, label="htmx"),
    Route("sessions:qr", "get", members_only(200), kwargs=session_kw),
    Route("sessions:export_participants", "get", allowed(200, EDITORS), kwargs=session_kw),
    Route("sessions:export_questions", "get", allowed(200, EDITORS), kwargs=session_kw),
    Route("sessions:play", "get", members_only(200), kwargs=token_kw, query=join_query),
    Route("sessions:play", "post", members_only(302), kwargs=token_kw, query=join_query, data=lambda w: {"round": "1"}),
    Route("sessions:play", "get", signed_in(200, anonymous=200), kwargs=set_token_kw, label="question set"),
    # Only the person who took the quiz sees the result of the attempt.
    Route(
        "questions:result",
        "get",
        expect(404, 404, 200, 404, 404, 404),
        kwargs=lambda w: {"token": w["question_set"].token, "attempt_id": w["attempt"].pk},
    ),
    # --- The API ------------------------------------------------------------------------------------
    Route(
        "auth-token",
        "post",
        signed_in(200, anonymous=200),
        data=lambda w: {"username": "olivia_owner", "password": "correct-horse-battery"},
        api=True,
    ),
    Route("groups", "post", signed_in(201, anonymous=401), data=lambda w: {"name": "Physics"}, api=True),
    Route("user-groups", "get", signed_in(200, anonymous=401), api=True),
    Route(
        "group-members",
        "post",
        allowed(201, MANAGERS, anonymous=401),
        kwargs=group_kw,
        data=lambda w: {"username": w["newcomer"].username, "role": "member"},
        api=True,
    ),
    Route(
        "group-member", "delete", allowed(204, {"owner", "admin", "member"}, anonymous=401), kwargs=member_kw, api=True
    ),
    Route(
        "question-set-create",
        "post",
        signed_in(201, anonymous=401),
        data=lambda w: {"title": "Set", "questions": [{"prompt": "P?", "choices": ["a", "b"], "answer": 0}]},
        api=True,
    ),
    Route(
        "extension-create-session",
        "post",
        members_only(201, anonymous=401),
        data=lambda w: {"group_id": w["group"].pk, **session_body(w)},
        api=True,
    ),
    Route("group-sessions", "get", members_only(200, anonymous=401), kwargs=group_kw, api=True),
    Route("group-sessions", "post", members_only(201, anonymous=401), kwargs=group_kw, data=session_body, api=True),
    Route("group-session-detail", "get", members_only(200, anonymous=401), kwargs=session_kw, api=True),
    Route(
        "group-session-detail",
        "patch",
        allowed(200, EDITORS, anonymous=401),
        kwargs=session_kw,
        data=lambda w: {"title": "Renamed"},
        api=True,
    ),
    Route(
        "group-session-detail",
        "put",
        allowed(200, EDITORS, anonymous=401),
        kwargs=session_kw,
        data=lambda w: {"status": "completed"},
        api=True,
    ),
    Route("group-session-detail", "delete", allowed(204, MANAGERS, anonymous=401), kwargs=session_kw, api=True),
    Route("quiz", "get", members_only(200, anonymous=401), kwargs=token_kw, query=join_query, api=True),
    Route("quiz", "get", signed_in(200, anonymous=200), kwargs=set_token_kw, api=True, label="question set"),
    Route(
        "quiz-submit",
        "post",
        members_only(200, anonymous=401),
        kwargs=token_kw,
        query=join_query,
        data=lambda w: {"answers": []},
        api=True,
    ),
    Route(
        "quiz-submit",
        "post",
        signed_in(200, anonymous=200),
        kwargs=set_token_kw,
        data=lambda w: {"answers": []},
        api=True,
        label="question set",
    ),
]


def route_parameters() -> dict[str, set[str]]:
    """Every named route of the project (namespaced, outside Django's own admin) with its URL parameters."""

    def walk(resolver, namespace=None):
        for pattern in resolver.url_patterns:
            if isinstance(pattern, URLResolver):
                if pattern.namespace != "admin":
                    yield from walk(pattern, pattern.namespace or namespace)
            elif isinstance(pattern, URLPattern) and pattern.name:
                name = f"{namespace}:{pattern.name}" if namespace else pattern.name
                yield name, set(pattern.pattern.regex.groupindex)

    return dict(walk(get_resolver()))


def test_every_route_has_a_row():
    assert set(route_parameters()) == {route.name for route in ROUTES}


def stored_state() -> tuple:
    return tuple(
        list(model.objects.order_by("pk").values())
        for model in (Group, Membership, GroupSession, Participant, QuestionSet, Attempt)
    )


def prepared(world, route: Route) -> tuple[str, dict | None]:
    return reverse(route.name, kwargs=route.kwargs(world)) + route.query(world), route.data(world)


def request_as(world, route: Route, role: str, url: str, data: dict | None):
    if route.api:
        client = api_client(world, role)
        if data is None:
            return getattr(client, route.method)(url)
        return getattr(client, route.method)(url, data, format="json")
    client = page_client(world, role)
    return getattr(client, route.method)(url, data or {}, **route.headers)


@pytest.mark.parametrize("route", ROUTES, ids=[route.id for route in ROUTES])
def test_each_caller_gets_the_status_their_role_allows(world, route: Route):
    got, unchanged_after_refusal = {}, {}
    url, data = prepared(world, route)
    before = stored_state()  # each caller's request is rolled back: every caller starts from this
    for role in ROLES:
        with transaction.atomic():
            response = request_as(world, route, role, url, data)
            got[role] = response.status_code
            if response.status_code >= 400:
                unchanged_after_refusal[role] = stored_state() == before
            if role == "anonymous" and response.status_code == SIGN_IN and route.expected["anonymous"] == SIGN_IN:
                assert response.url.startswith(reverse("accounts:login")), response.url
            transaction.set_rollback(True)

    assert got == route.expected
    assert all(unchanged_after_refusal.values()), unchanged_after_refusal


# --- Nothing of another group is reachable by id or token ---------------------------------------------


_SWAPS = {
    "group_id": lambda w: w["other_group"].pk,
    "session_id": lambda w: w["other_session"].pk,
    "user_id": lambda w: w["outsider"].pk,
    "token": lambda w: w["other_session"].share_token,
    "attempt_id": lambda w: (
        Attempt.objects.create(question_set=w["question_set"], user=w["outsider"], answers=[], score=0, total=3).pk
    ),
}
_OTHER_JOIN_LINKS = {
    "groupId": lambda w: f"?groupId={w['other_group'].pk}&sessionId={w['session'].pk}",
    "sessionId": lambda w: f"?groupId={w['group'].pk}&sessionId={w['upcoming'].pk}",
}


def _foreign_variants(route: Route, parameters: set[str]):
    """The route with one URL parameter swapped for the other group's object, or with a join link whose
    groupId/sessionId belong to something else."""
    if route.label == "question set":
        return  # a question set's link is public by design
    for name in sorted(parameters & set(_SWAPS)):

        def kwargs(w, name=name):
            return {**route.kwargs(w), name: _SWAPS[name](w)}

        yield replace(route, kwargs=kwargs, label=f"{route.label} foreign {name}".strip())
    if route.query is join_query:
        for name, query in _OTHER_JOIN_LINKS.items():
            yield replace(route, query=query, label=f"{route.label} foreign {name}".strip())


FOREIGN = [
    variant for route in ROUTES for variant in _foreign_variants(route, route_parameters().get(route.name, set()))
]


def test_objects_of_another_group_are_not_found_by_id_or_token(world):
    """Even the group's owner reaches nothing of the other group through their own group's URLs."""
    got, changed = {}, []
    for route in FOREIGN:
        with transaction.atomic():
            url, data = prepared(world, route)
            before = stored_state()
            got[route.id] = request_as(world, route, "owner", url, data).status_code
            if stored_state() != before:
                changed.append(route.id)
            transaction.set_rollback(True)

    assert len(got) == len(FOREIGN) > 40
    assert got == dict.fromkeys(got, 404)
    assert changed == []
