"""Request body parsers for the API."""

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser


class GuardedJSONParser(JSONParser):
    """DRF's JSON parser, plus a 400 for JSON nested too deeply to parse (the decoder raises RecursionError,
    which is not a ValueError: DRF would let it through as a 500)."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError as error:
            raise ParseError("JSON parse error - nested too deeply.") from error
