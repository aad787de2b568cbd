"""Control characters in donor text are refused at the door (issue 12, finding 10): a name with a
line break, an escape, NUL or a bidirectional override is 400 naming the field, and nothing is
written, instead of reaching the receipt, the FEC file and the CSV."""

from __future__ import annotations

import pytest

from tests.dynamo_counter import dynamodb_requests
from tests.helpers import donation_body

pytestmark = pytest.mark.stack

WRITES = {"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"}
PLANTED = ["Ana\r\nBcc: everyone@example.org", "Ana\x00", "Ana\x1b[2J", "Ana\u2028Rivera",
           "Ana\u202eanaviR", "Ana\tRivera", "Ana\x85Rivera"]
DONOR_FIELDS = [("donor", "first_name"), ("donor", "last_name"), ("donor", "employer"),
                ("donor", "occupation"), ("donor", "address", "line1"), ("donor", "address", "line2"),
                ("donor", "address", "city")]


@pytest.mark.parametrize("path", DONOR_FIELDS, ids=lambda p: ".".join(p))
def test_intake_refuses_control_characters_in_every_donor_text_field(api, path) -> None:
    slug = api.create_page()["slug"]
    for planted in PLANTED:
        body = donation_body()
        target = body
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = planted
        with dynamodb_requests() as calls:
            status, answer = api.call("POST", f"/api/pages/{slug}/donations", body)
        assert status == 400, (planted, answer)
        assert ".".join(path) in answer["error"]["fields"], answer
        assert not WRITES & set(calls), calls
    # the same donor, written plainly, gives (accents and joiners are text, not controls)
    body = donation_body()
    body["donor"]["first_name"] = "Zoë\u200d"
    assert api.call("POST", f"/api/pages/{slug}/donations", body)[0] == 201


def test_a_signup_refuses_control_characters(api) -> None:
    with dynamodb_requests() as calls:
        status, answer = api.call("POST", "/api/signups", {"email": "sam@example.org",
                                                           "first_name": "Sam\r\nBcc: x@example.org"},
                                  {"X-Forwarded-For": "192.0.2.44"})
    assert (status, list(answer["error"]["fields"])) == (400, ["first_name"])
    assert not WRITES & set(calls), calls
