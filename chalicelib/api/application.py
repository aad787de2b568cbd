"""The Chalice application class: Chalice, with the request being handled kept per thread."""

from __future__ import annotations

import threading
from typing import Any

from chalice import Chalice
from chalice.app import Request


class GroundswellApp(Chalice):
    """Chalice keeps the current request (and Lambda context) on the app object. In Lambda a
    container handles one request at a time, but `chalice local` and `chalice.test.Client`
    serve requests on threads, where a view could read another request's body: a webhook would
    then apply one event twice and answer 200 for the other, which is lost. Kept per thread
    here, every view sees its own request (tests/integration/test_chaos.py relies on it)."""

    def __init__(self, app_name: str, debug: bool = False) -> None:
        self._per_thread = threading.local()
        # Logs are powertools' JSON lines (chalicelib/logs.py) on the logger named after the app;
        # Chalice's own handler would print each of them a second time, as plain text.
        super().__init__(app_name, debug=debug, configure_logs=False)

    @property  # type: ignore[override]
    def current_request(self) -> Request | None:
        return getattr(self._per_thread, "request", None)

    @current_request.setter
    def current_request(self, value: Request | None) -> None:
        self._per_thread.request = value

    @property  # type: ignore[override]
    def lambda_context(self) -> Any:
        return getattr(self._per_thread, "lambda_context", None)

    @lambda_context.setter
    def lambda_context(self, value: Any) -> None:
        self._per_thread.lambda_context = value
