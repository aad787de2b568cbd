"""Receipts carry what a donor needs: a monthly gift's one-step cancel link, and a saved card's
express link (which opens a confirmation step, never a charge)."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.followups_kit import delivered, drain_until
from tests.helpers import donation_body, stripe_event
from tests.mail import html_of, mirrored, sent_to, text_of

pytestmark = pytest.mark.stack


@pytest.fixture(scope="module")
def mailbox(local_stack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    with mirrored(tmp_path_factory.mktemp("receipts")) as folder:
        yield folder


def give(api, slug: str, **body_fields) -> tuple[str, dict]:
    email = f"r.{uuid.uuid4().hex[:10]}@example.org"
    status, started = api.call("POST", f"/api/pages/{slug}/donations",
                               donation_body(2500, email=email, **body_fields))
    assert status == 201, started
    event = stripe_event("payment_intent.succeeded", id=started["client_secret"].split("_secret_")[0],
                         amount=started["amount_cents"], amount_received=started["amount_cents"],
                         metadata={"donation_id": started["donation_id"]})
    assert api.webhook(event)[1]["outcome"] == "applied"
    drain_until(delivered(f"thanks#{started['donation_id']}"))
    return email, started


def test_a_monthly_receipt_has_a_cancel_link_that_works(api, mailbox) -> None:
    slug = api.create_page()["slug"]
    email, _ = give(api, slug, recurring="monthly", recurring_consent=True)
    [receipt] = sent_to(mailbox, email)
    cancel = re.search(r"https?://[^/\s]+(/c/[A-Za-z0-9_.=-]+)", text_of(receipt))
    assert cancel, text_of(receipt)
    status, page = api.call("GET", cancel.group(1))  # asks; only the button cancels
    assert status == 200 and "Cancel my monthly gift" in page and "is cancelled" not in page
    status, page = api.call("POST", cancel.group(1), raw="",
                            headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert status == 200 and "is cancelled" in page
    assert "/express/" not in text_of(receipt)


def test_a_saved_card_receipt_has_an_express_link(api, mailbox) -> None:
    slug = api.create_page()["slug"]
    email, _ = give(api, slug, save_payment_method=True)
    [receipt] = sent_to(mailbox, email)
    assert re.search(rf"/express/{slug}\?t=[A-Za-z0-9_.=-]+", text_of(receipt)), text_of(receipt)
    assert "/c/" not in text_of(receipt)


def test_each_receipt_carries_a_fresh_single_use_express_link(api, mailbox) -> None:
    from datetime import timedelta

    from chalicelib import deps
    from chalicelib.tokens import EXPRESS

    page = api.create_page()
    email, first = give(api, page["slug"], save_payment_method=True)
    body = donation_body(1500, email=email, save_payment_method=True)
    status, second = api.call("POST", f"/api/pages/{page['slug']}/donations", body)
    assert status == 201, second
    api.webhook(stripe_event("payment_intent.succeeded", id=second["client_secret"].split("_secret_")[0],
                             amount=second["amount_cents"], amount_received=second["amount_cents"],
                             metadata={"donation_id": second["donation_id"]}))
    drain_until(delivered(f"thanks#{second['donation_id']}"))
    links = [re.search(r"/express/[^?\s]+\?t=([A-Za-z0-9_.=-]+)", text_of(r))
             for r in sent_to(mailbox, email)]
    claims = [deps.tokens().claims(m.group(1), EXPRESS) for m in links if m]
    assert len(claims) == 2 and claims[0].nonce != claims[1].nonce  # each usable once, on its own
    donor_id = api.donation(first["donation_id"])["donor_id"]
    assert all(c.subjects == (donor_id, page["committee_id"]) for c in claims)
    assert all(c.expires_at - c.issued_at == timedelta(days=30) for c in claims)


def test_a_gift_given_in_spanish_gets_its_receipt_in_spanish(api, mailbox) -> None:
    """The language the donor gave in (the donation form sends it) is the receipt's: subject,
    both parts, the monthly terms and the footer; an English gift's receipt stays English."""
    from tests.catalog_kit import english_shown

    slug = api.create_page(locale="es")["slug"]
    email, _ = give(api, slug, locale="es", recurring="monthly", recurring_consent=True)
    [receipt] = sent_to(mailbox, email)
    assert receipt["Subject"].startswith("Gracias, ")
    text = text_of(receipt)
    assert "Recibimos su contribución de $25" in text and "Cancélela cuando quiera en un clic" in text
    assert "Recibe este mensaje porque" in text
    html = html_of(receipt)
    assert '<html lang="es">' in html and english_shown(html, "es") == []
    # Its cancel link opens the page in Spanish, and the button's answer too.
    cancel = re.search(r"https?://[^/\s]+(/c/[A-Za-z0-9_.=-]+\?lang=es)", text).group(1)
    status, page = api.call("GET", cancel)
    assert status == 200 and '<html lang="es">' in page and english_shown(page, "es") == []
    assert "¿Cancelar su donación mensual?" in page and f'action="{cancel}"' in page
    status, page = api.call("POST", cancel, raw="",
                            headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert status == 200 and "Su donación mensual está cancelada" in page and '<html lang="es">' in page
    # Its unsubscribe page too, and the answer to its button.
    unsubscribe = re.search(r"https?://[^/\s]+(/u/[A-Za-z0-9_.=-]+\?lang=es)", text).group(1)
    status, page = api.call("GET", unsubscribe)
    assert status == 200 and english_shown(page, "es") == [] and f'action="{unsubscribe}"' in page
    status, page = api.call("POST", unsubscribe, raw="",
                            headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert status == 200 and "Canceló su suscripción" in page and '<html lang="es">' in page
    english, _ = give(api, slug, recurring="monthly", recurring_consent=True)
    [receipt] = sent_to(mailbox, english)
    assert receipt["Subject"].startswith("Thank you, ") and "Cancel it at any time" in text_of(receipt)


def test_a_donation_in_another_language_is_refused(api) -> None:
    slug = api.create_page()["slug"]
    status, body = api.call("POST", f"/api/pages/{slug}/donations", donation_body(2500, locale="fr"))
    assert status == 400 and "locale" in body["error"]["fields"], body
