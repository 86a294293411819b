"""`Authorization: Token <key>` for the extension, as DRF's TokenAuthentication, in one hand-written query.

Every call the extension makes authenticates, so the lookup skips the ORM's query building (about
1 ms of CPU per call here; see quizsite.rows). Same answers as DRF's: 401 for an unknown key or an
inactive user.
"""

from django.contrib.auth import get_user_model
from django.db import connection
from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions
from rest_framework.authtoken.models import Token

from quizsite import rls, rows

User = get_user_model()


class TokenAuthentication(authentication.TokenAuthentication):
    def authenticate_credentials(self, key):
        columns = rows.select_list(User, "u")
        # Row-level security (quizsite.rls): the same query tells the database who is asking. DRF
        # authenticates inside the view, after every middleware; RowLevelSecurityMiddleware resets it.
        sets_user = rls.enabled()
        if sets_user:
            columns += ", " + rls.set_user_column("u.id")
        query = (
            f"SELECT {columns} FROM {User._meta.db_table} u"
            f" JOIN {Token._meta.db_table} t ON t.user_id = u.id WHERE t.key = %s"
        )
        with connection.cursor() as cursor:
            cursor.execute(query, [key])
            row = cursor.fetchone()
        if row is None:
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        if sets_user:
            row = row[:-1]
        user = rows.instance(User, row)
        if sets_user:
            rls.note_user_set(user.pk)
        if not user.is_active:
            rls.set_user(None)
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
        return user, Token(key=key, user=user)
