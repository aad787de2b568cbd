"""Account-wide switches the drain reads: whether invitations are paused (SES complaints above
the alarm's 0.08 %). One small item in the sessions table, which already holds the app's
small markers (used links); read through a 30-second per-container cache, so a drain of
hundreds of messages asks once."""

from __future__ import annotations

import time
from datetime import datetime, timedelta

from chalicelib.storage.models import WebSessionModel

INVITATIONS_PAUSED = "switch#invitations-paused"
SWITCH = "switch"
# A pause nobody lifts still ends (the alarm's OK may be lost): long enough for SES's review.
PAUSE_KEPT = timedelta(days=14)
CACHE_SECONDS = 30.0


class InvitationPause:
    def __init__(self) -> None:
        self._cached: tuple[float, bool] | None = None

    def paused(self) -> bool:
        now = time.monotonic()
        if self._cached is None or now - self._cached[0] >= CACHE_SECONDS:
            try:
                WebSessionModel.get(INVITATIONS_PAUSED, consistent_read=True,
                                    attributes_to_get=["session_hash"])
                found = True
            except WebSessionModel.DoesNotExist:
                found = False
            self._cached = (now, found)
        return self._cached[1]

    def set_paused(self, paused: bool, reason: str, now: datetime) -> None:
        if paused:
            WebSessionModel(INVITATIONS_PAUSED, kind=SWITCH, name=reason[:200], created_at=now,
                            expires_at=now + PAUSE_KEPT).save()
        else:
            WebSessionModel(INVITATIONS_PAUSED).delete()
        self._cached = (time.monotonic(), paused)
