"""`POST /api/auth/token`: how the browser extension trades a username and password for its API key."""

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.authtoken.serializers import AuthTokenSerializer
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from quizsite.throttling import ScopedWindowThrottle

from .services import get_or_create_api_token


class TokenResponseSerializer(serializers.Serializer):
    token = serializers.CharField()


class TokenRequestSerializer(AuthTokenSerializer):
    # The inherited read-only `token` field would otherwise show up in the documented request body.
    token = None


class ObtainTokenView(APIView):
    # No session authentication, so no CSRF: the extension posts credentials from outside the site.
    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [ScopedWindowThrottle]
    throttle_scope = "token"

    @extend_schema(
        operation_id="auth_token_create",
        summary="Trade a username and password for the API token",
        request=TokenRequestSerializer,
        responses={
            200: TokenResponseSerializer,
            400: OpenApiResponse(description="Missing fields or wrong credentials (`non_field_errors`)."),
            429: OpenApiResponse(description="Too many attempts; retry later."),
        },
        auth=[],
        tags=["auth"],
    )
    def post(self, request):
        serializer = TokenRequestSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        token = get_or_create_api_token(user=serializer.validated_data["user"])
        return Response({"token": token.key})
