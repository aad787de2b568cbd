"""Signing in and out of the console: by staff key or by an emailed single-use link."""

from __future__ import annotations

from chalice.app import Response

from chalicelib import deps, logs
from chalicelib.api.console.web import (
    FORM,
    LOGIN_COOKIE,
    STAFF,
    console,
    error_page,
    field,
    form,
    home_for,
    login_token,
    params,
    public_form,
    redirect,
    render,
    request,
    safe_next,
    secure,
    staff_page,
)
from chalicelib.errors import DomainError


@console.route("/admin/login", methods=["GET"])
@public_form
def login_page() -> Response:
    req = request()
    token, headers = login_token(req)
    query = params(req)
    return render("console/login.html", csrf=token, next=safe_next(query.get("next")),
                  sent=query.get("sent") == "1", error=None, headers=headers)


@console.route("/admin/login", methods=["POST"], content_types=[FORM])
@public_form
def login_with_key() -> Response:
    req = request()
    data = form(req)
    try:
        started = deps.signin().with_key(field(data, "key"))
    except DomainError as err:
        token, headers = login_token(req)
        return render("console/login.html", status=401, csrf=token, next=safe_next(field(data, "next")),
                      sent=False, error=err.message, headers=headers)
    logs.info("console sign-in", method="key", role=started.session.role)
    return _signed_in(started, safe_next(field(data, "next")))


@console.route("/admin/login/email", methods=["POST"], content_types=[FORM])
@public_form
def login_by_email() -> Response:
    data = form(request())
    queued = deps.signin().request_link(field(data, "email"))
    logs.info("console sign-in link asked", queued=queued)
    # The same answer whether or not the address is known.
    return redirect("/admin/login?sent=1")


@console.route("/admin/login/link", methods=["GET"])
@public_form
def login_link_page() -> Response:
    req = request()
    link = params(req).get("t", "")
    holder = deps.signin().link_holder(link)  # 400 tampered, 410 expired: nothing is used up
    token, headers = login_token(req)
    return render("console/link.html", holder=holder, token=link, csrf=token, headers=headers)


@console.route("/admin/login/link", methods=["POST"], content_types=[FORM])
@public_form
def login_with_link() -> Response:
    started = deps.signin().with_link(field(form(request()), "t"))
    logs.info("console sign-in", method="link", role=started.session.role)
    return _signed_in(started, None)


@console.route("/admin/logout", methods=["POST"], content_types=[FORM])
@staff_page(STAFF)
def logout(signed) -> Response:  # type: ignore[no-untyped-def]
    deps.signin().sign_out(signed.session)
    kind = deps.console_sessions().kind
    return redirect("/admin/login", {"Set-Cookie": kind.clear_cookie(secure(request()))})


def _signed_in(started, target: str | None) -> Response:  # type: ignore[no-untyped-def]
    kind = deps.console_sessions().kind
    https = secure(request())
    clear = f"{LOGIN_COOKIE}=; Path=/admin; Max-Age=0; HttpOnly; SameSite=Strict"
    return redirect(target or home_for(started.session.role), {
        "Set-Cookie": [kind.set_cookie(started.session_id, https), clear + ("; Secure" if https else "")]})


__all__ = ["error_page"]
