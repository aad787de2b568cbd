"""Reading back what was sent: the `.eml` mirror the mailer writes once SES (moto's server)
accepted a message, as `make run` writes it to `.local/outbox/`.

(moto's `/moto-api/data.json` also lists SES's messages, but it serializes every object moto
holds, DynamoDB items included: after the large export tests it is too heavy to poll.)
"""

from __future__ import annotations

import email
import email.policy
import re
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import EmailMessage
from pathlib import Path

import pytest


@contextmanager
def mirrored(folder: Path) -> Iterator[Path]:
    """The app's services rebuilt to mirror every sent message into `folder` (a test module's
    `mailbox` fixture)."""
    from tests.followups_kit import environment

    with environment(MAIL_MIRROR_DIR=str(folder)):
        yield folder


@pytest.fixture(scope="module")
def mailbox(local_stack: object, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A test module's mirror folder (import it: `from tests.mail import mailbox`)."""
    with mirrored(tmp_path_factory.mktemp("mail")) as folder:
        yield folder


def sent_to(mailbox: Path, address: str) -> list[EmailMessage]:
    """Every message SES accepted for `address`, oldest first."""
    found = []
    for path in sorted(mailbox.glob("*.eml")):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        if message["To"].lower() == address.lower():
            assert message["X-SES-Message-Id"], path  # written only after SES answered
            found.append(message)
    return found  # type: ignore[return-value]


def text_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    return part.get_content() if part is not None else ""


def html_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("html",))
    return part.get_content() if part is not None else ""


def links(message: EmailMessage, kind: str) -> list[str]:
    """Paths like `/i/<token>` (kind "i") found in the plain-text part."""
    return re.findall(rf"https?://[^/\s]+(/{kind}/[A-Za-z0-9_.=-]+)", text_of(message))


def token_of(path: str) -> str:
    return path.rstrip("/").rsplit("/", 1)[-1]
