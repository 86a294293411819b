"""Count the SQL queries each request runs, for `make bench` (on only with QUERY_COUNT=1).

The count covers everything the request does from the outermost middleware on: session and token
lookups, the view, the template. A plain response carries it in an `X-Query-Count` header, which the
load generator records. A streamed response (the CSV exports) runs its main query while the body is
being sent, after the headers left, so its count is logged on the `quizsite.querycount` logger once the
body is done instead, and the benchmark reads it from the server's log.

Off by default: a production server neither pays for the counting nor tells clients about its queries.
"""

import logging

from django.db import connections

HEADER = "X-Query-Count"
logger = logging.getLogger("quizsite.querycount")


class _Counter:
    def __init__(self):
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)


class QueryCountMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        counter = _Counter()
        # Per thread: each gthread worker thread has its own connections, so counts never mix.
        wrapped = list(connections.all(initialized_only=False))
        for conn in wrapped:
            conn.execute_wrappers.append(counter)
        try:
            response = self.get_response(request)
        finally:
            for conn in wrapped:
                _remove(conn, counter)
        if response.streaming:
            response.streaming_content = _counted_stream(response.streaming_content, counter, request.path)
        else:
            response[HEADER] = str(counter.count)
        return response


def _remove(conn, counter) -> None:
    try:
        conn.execute_wrappers.remove(counter)
    except ValueError:
        pass


def _counted_stream(content, counter: _Counter, path: str):
    conns = list(connections.all(initialized_only=False))
    for conn in conns:
        conn.execute_wrappers.append(counter)
    try:
        yield from content
    finally:
        for conn in conns:
            _remove(conn, counter)
        logger.info("streamed path=%s queries=%d", path, counter.count)
