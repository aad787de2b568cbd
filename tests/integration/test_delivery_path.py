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
import re
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


# What hands a message to SES or SNS: their sending API calls, any `.send` on a mailer or texter
# (`self.mailer.send`, `deps.mailer().send`, `texter.send`), and a client made for either service.
SENDING_CALLS = {"send_email", "send_raw_email", "send_bulk_email", "send_templated_email",
                 "send_bulk_templated_email", "publish", "publish_batch"}
CLIENTS = {"ses", "sesv2", "sns", "pinpoint", "pinpoint-sms-voice", "pinpoint-sms-voice-v2"}


def transport_calls(tree: ast.AST) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        target = ast.unparse(node.func)
        if isinstance(node.func, ast.Attribute) and (
                node.func.attr in SENDING_CALLS
                or re.search(r"(mailer|texter)(\(\))?\.send$", target, re.I)):
            found.append((node.lineno, target))
        elif target.endswith("client") and node.args and isinstance(node.args[0], ast.Constant) \
                and node.args[0].value in CLIENTS:
            found.append((node.lineno, f"{target}({node.args[0].value!r})"))
    return found


def test_the_transport_check_finds_each_way_around_the_path() -> None:
    planted = ast.parse(
        "def handler(message):\n"
        "    self.mailer.send(email)\n"
        "    deps.mailer().send(email)\n"
        "    deps.texter().send(text)\n"
        "    boto3.client('sesv2').send_email(Content={})\n"
        "    ses.send_raw_email(RawMessage={})\n"
        "    sns.publish(PhoneNumber='+13125550142', Message='hi')\n"
        "    boto3.client('sns', region_name='us-east-1')\n")
    assert len(transport_calls(planted)) == 8  # the sesv2 line twice: its client and its call
    assert transport_calls(ast.parse("def f():\n    client.get_account()\n    queue.send()\n")) == []


def test_a_handler_that_composes_and_sends_around_the_path_is_caught() -> None:
    from chalicelib import deps
    from chalicelib.followups.compose import compose

    def sneaky(message: Any) -> Any:  # composes like the others, hands it to SES itself
        return deps.mailer().send(compose("confirm", "Hi", to="a@example.org", message_id="m"))

    assert reached(sneaky) & COMPOSES and not reached(sneaky) & PATH
    assert transport_calls(ast.parse(inspect.getsource(sneaky).strip()))


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
    assert transport_calls(ast.parse(inspect.getsource(DeliveryService._send).strip()))  # it does send
