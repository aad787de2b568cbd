"""Drive the staff console like a browser over chalice's test client: cookies kept, forms
posted urlencoded with the CSRF token read from the page."""

from __future__ import annotations

import re
import urllib.parse
import uuid
from datetime import datetime, timezone
from typing import Any

CSRF = re.compile(r'name="csrf" value="([^"]+)"')


class Console:
    def __init__(self, client: Any) -> None:
        self.client = client
        self.cookies: dict[str, str] = {}

    def _headers(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        headers = dict(extra or {})
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        return headers

    def _keep(self, response: Any) -> None:
        values = response.headers.get("set-cookie") or response.headers.get("Set-Cookie")
        if not values:
            return
        for value in values if isinstance(values, list) else [values]:
            name, _, rest = value.partition("=")
            cookie_value = rest.split(";", 1)[0]
            if "Max-Age=0" in value:
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = cookie_value

    def get(self, path: str) -> Any:
        response = self.client.http.get(path, headers=self._headers())
        self._keep(response)
        return response

    def post(self, path: str, fields: dict[str, Any] | list[tuple[str, str]],
             csrf: str | None = None) -> Any:
        pairs = list(fields.items()) if isinstance(fields, dict) else list(fields)
        if csrf is not None:
            pairs.append(("csrf", csrf))
        body = urllib.parse.urlencode(pairs)
        response = self.client.http.post(path, body=body, headers=self._headers(
            {"Content-Type": "application/x-www-form-urlencoded"}))
        self._keep(response)
        return response

    def csrf(self, path: str) -> str:
        """The CSRF token of the form on `path`."""
        page = self.get(path)
        assert page.status_code == 200, (path, page.status_code, text(page)[:500])
        found = CSRF.search(text(page))
        assert found, f"no CSRF token on {path}"
        return found[1]

    def sign_in_with_key(self, key: str) -> Any:
        return self.post("/admin/login", {"key": key}, csrf=self.csrf("/admin/login"))

    def submit(self, form_path: str, action: str, fields: dict[str, Any] | list[tuple[str, str]]) -> Any:
        """Post a form found on `form_path` (its CSRF token included) to `action`."""
        return self.post(action, fields, csrf=self.csrf(form_path))


def text(response: Any) -> str:
    body = response.body
    return body.decode() if isinstance(body, bytes) else body


def staff_key(role: str, email: str | None = None) -> str:
    """A fresh staff key of `role` (optionally registered with `email`), stored as the CLI does."""
    from chalicelib.config import settings
    from chalicelib.staff.auth import email_key, hash_key
    from chalicelib.storage.staff_keys import StaffKeyRepository

    key = f"console-{role}-{uuid.uuid4().hex}"
    digest = email_key(email, settings().token_secret) if email else None
    StaffKeyRepository().save(hash_key(key), role, f"{role} {key[-6:]}", datetime.now(timezone.utc),
                              email=email, email_key=digest)
    return key
