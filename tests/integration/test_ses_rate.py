"""SES's send rate (issue 18), over real connections: moto's SES account quota is lowered (our
local AWS serves SES v2 GetAccount and enforces MaxSendRate per second, devtools/local_aws.py);
a burst of 200 emails, drained by two drains at once, goes out at the quota, none failed."""

from __future__ import annotations

import threading
import time
import uuid
from collections import Counter
from typing import Any

import pytest
import requests

from chalicelib import deps
from chalicelib.followups.input import SignupRequest
from chalicelib.giving.model import donor_id_for
from chalicelib.notify.ses import SesAccount
from chalicelib.storage.models import OutboxModel

pytestmark = pytest.mark.stack
QUOTA = 2
BURST = 200


def local_ses(local_stack: dict[str, Any], **quota: float) -> dict[str, Any]:
    url = f"http://127.0.0.1:{local_stack['moto_port']}/_local/ses"
    answer = requests.post(url, json=quota, timeout=10) if quota else requests.get(url, timeout=10)
    answer.raise_for_status()
    return answer.json()


def test_a_burst_of_200_drains_at_the_accounts_send_rate_with_none_failed(local_stack) -> None:
    local_ses(local_stack, max_send_rate=QUOTA)
    deps.reset()  # a fresh container: it reads the lowered quota from GetAccount
    try:
        assert SesAccount(deps.settings().region).max_send_rate() == QUOTA
        run = uuid.uuid4().hex[:8]
        emails = [f"rate.{run}.{n}@example.org" for n in range(BURST)]
        service = deps.audience()
        for email in emails:
            assert service.signup(SignupRequest(email=email))
        people = {donor_id_for(e) for e in emails}
        ours = [m for m in OutboxModel.scan(OutboxModel.kind == "confirm_signup")
                if m.message_id.split("#")[1] in people]
        assert len(ours) == BURST
        start = time.time()

        def drain() -> None:  # as the scheduled drain runs, in its own container
            while any(OutboxModel.get(m.message_id, consistent_read=True).status == "pending"
                      for m in ours[::20]):
                deps.dispatcher().drain(limit=100)

        drains = [threading.Thread(target=drain) for _ in range(2)]
        for d in drains:
            d.start()
        for d in drains:
            d.join(timeout=120)
        while any(OutboxModel.get(m.message_id, consistent_read=True).status == "pending" for m in ours):
            deps.dispatcher().drain(limit=100)
        elapsed = time.time() - start
        ses = local_ses(local_stack)
    finally:
        local_ses(local_stack, max_send_rate=100)
        deps.reset()
    final = [OutboxModel.get(m.message_id, consistent_read=True) for m in ours]
    assert Counter(m.status for m in final) == {"sent": BURST}  # none failed
    assert max(int(m.attempts) for m in final) == 1  # waiting for the rate is no failed attempt
    per_second = Counter(int(t) for t in ses["sent"] if t >= start)
    assert sum(per_second.values()) >= BURST and max(per_second.values()) <= QUOTA
    assert elapsed >= BURST / QUOTA - 1  # at the quota, not faster
    # The drains kept to the rate themselves: SES had (almost) nothing to refuse. A token taken
    # in a second's last millisecond can arrive in the next, so a few refusals may happen (and
    # are deferred like any throttle); unbudgeted, the drains would be refused most of the time.
    assert ses["refused"] <= BURST // 20
