"""One delivery path (issue 16): every outbox handler that sends, email or text, goes through
`DeliveryService._send` (followups/delivery.py) (the send ledger, behind the consent checks of `send_once`,
`send_transactional`, `send_text` and the follow-ups' own deliveries).

The handlers are discovered from the app's registry (`deps.outbox_handlers()`), not listed: a new
handler that composes a message is caught if it does not reach the path. And no module but the
transports themselves and `_send` calls SES or SNS.
"""

from __future__ import annotations

import ast
import inspect
import types
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.stack

ROOT = Path(__file__).resolve().parents[2] / "chalicelib"
PATH = {"_send", "send_once", "send_text", "send_transactional"}
COMPOSES = {"compose", "_compose", "OutgoingEmail", "OutgoingText", "mime"}


def reached(handler: Any) -> set[str]:
    """Every name the handler's code refers to, following its object's own methods and the
    callables its closures hold."""
    names: set[str] = set()
    seen: set[int] = set()
    todo: list[Any] = [handler]
    while todo:
        fn = todo.pop()
        owner = getattr(fn, "__self__", None)
        func = getattr(fn, "__func__", fn)
        if not isinstance(func, types.FunctionType) or id(func) in seen:
            continue
        seen.add(id(func))
        codes = [func.__code__]
        while codes:
            code = codes.pop()
            names |= set(code.co_names) | set(code.co_freevars)
            codes += [c for c in code.co_consts if isinstance(c, types.CodeType)]
        for cell in func.__closure__ or ():
            try:
                todo.append(cell.cell_contents)
            except ValueError:
                pass
        if owner is not None:
            for name in list(names):
                member = getattr(type(owner), name, None)
                if isinstance(member, types.FunctionType):
                    todo.append(getattr(owner, name))
            for value in vars(owner).values():  # services handed in (a `send_once` of another)
                if callable(value) and getattr(value, "__name__", "") in PATH | {"<lambda>"}:
                    todo.append(value)
    return names


def test_every_handler_that_composes_a_message_sends_it_through_the_one_path(local_stack) -> None:
    from chalicelib import deps

    handlers = deps.outbox_handlers()
    composers = {kind for kind, h in handlers.items() if reached(h) & COMPOSES}
    senders = {kind for kind, h in handlers.items() if reached(h) & PATH}
    assert {"thanks", "text_reply", "best_efforts_request"} <= composers
    assert composers - senders == set()
    # the discovery sees what it must: email and text deliveries, composed here and elsewhere
    assert {"thanks", "best_efforts_request", "text_confirm", "text_soon", "text_invite",
            "text_reply", "event_reminder", "plan_ended"} <= senders
    assert "refund_excess" not in senders  # a Stripe call, not a message


def transport_calls(tree: ast.AST) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            target = ast.unparse(node.func)
            if node.func.attr in ("send_email", "publish") or target.endswith(("mailer.send", "texter.send")):
                found.append((node.lineno, target))
    return found


def test_only_the_transports_and_the_path_call_ses_or_sns() -> None:
    outside = {}
    for path in ROOT.rglob("*.py"):
        relative = str(path.relative_to(ROOT))
        if relative in ("notify/ses.py", "notify/sms.py"):
            continue
        tree = ast.parse(path.read_text())
        for fn in ast.walk(tree):
            if isinstance(fn, ast.FunctionDef) and relative == "followups/delivery.py" and fn.name == "_send":
                fn.body = []  # the path itself
        calls = transport_calls(tree)
        if calls:
            outside[relative] = calls
    assert outside == {}
    from chalicelib.followups.delivery import DeliveryService

    source = inspect.getsource(DeliveryService._send)
    assert "begin_send" in source and "finish_send" in source
