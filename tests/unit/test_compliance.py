"""Committee rules, the limit arithmetic and donor identity keys."""

from __future__ import annotations

from datetime import datetime, timezone

from hypothesis import given
from hypothesis import strategies as st

from chalicelib.compliance.committees import CommitteeDefaults, default_committee
from chalicelib.compliance.limits import excess_cents, remaining_cents
from chalicelib.giving.model import DonorSnapshot, identity_keys

WHEN = datetime(2025, 6, 1, tzinfo=timezone.utc)


def test_default_candidate_and_pac_limits_and_scopes() -> None:
    candidate = default_committee("C00000001", CommitteeDefaults())
    assert (candidate.limit_cents, candidate.itemization_threshold_cents) == (350_000, 20_000)
    assert candidate.limit_scope("P2026", WHEN) == "C00000001#P2026"
    assert candidate.limit_scope("G2026", WHEN) == "C00000001#G2026"
    pac = default_committee("C00000002", CommitteeDefaults(), type="pac")
    assert pac.limit_cents == 500_000
    assert pac.limit_scope("P2026", WHEN) == "C00000002#Y2025"


def test_limits_are_settings(monkeypatch) -> None:
    from chalicelib import deps

    monkeypatch.setenv("STAGE", "dev")
    monkeypatch.setenv("CANDIDATE_LIMIT_CENTS", "330000")
    monkeypatch.setenv("ITEMIZATION_THRESHOLD_CENTS", "25000")
    deps.reset()
    try:
        committee = default_committee("C00000001", deps.committees().defaults)
    finally:
        monkeypatch.undo()
        deps.reset()
    assert (committee.limit_cents, committee.itemization_threshold_cents) == (330_000, 25_000)


def test_itemization_periods() -> None:
    # Without a calendar: the regular two-year cycle, in the assumed Eastern time.
    candidate = default_committee("C00000001", CommitteeDefaults())
    start, end = candidate.itemization_period("P2026", WHEN)
    assert (start, end) == (datetime(2024, 11, 6, 5, tzinfo=timezone.utc),  # the day after the general
                            datetime(2026, 11, 4, 5, tzinfo=timezone.utc))
    pac = default_committee("C00000002", CommitteeDefaults(), type="pac")
    start, end = pac.itemization_period("P2026", WHEN)
    assert (start, end) == (datetime(2025, 1, 1, 5, tzinfo=timezone.utc),
                            datetime(2026, 1, 1, 5, tzinfo=timezone.utc))


@given(st.integers(0, 10**7), st.integers(-(10**6), 10**7), st.integers(1, 10**6))
def test_excess_never_exceeds_the_contribution_and_leaves_the_donor_at_the_limit(
        limit: int, net_after: int, contribution: int) -> None:
    excess = excess_cents(limit, net_after, contribution)
    assert 0 <= excess <= contribution
    if net_after - contribution <= limit:  # before this gift the donor was within the limit
        assert net_after - excess <= limit or excess == contribution


def test_remaining() -> None:
    assert remaining_cents(350_000, 300_000) == 50_000
    assert remaining_cents(350_000, 400_000) == 0


def snapshot(**changes: str) -> DonorSnapshot:
    base = dict(first_name="José", last_name="Núñez", email="jose@example.org",
                address_line1="1 Elm", city="Madison", state="WI", zip="537031234",
                employer="Acme", occupation="Welder")
    base.update(changes)
    return DonorSnapshot(**base)  # type: ignore[arg-type]


def test_identity_links_one_person_across_emails_but_not_other_people() -> None:
    email_a, name_a = identity_keys(snapshot())
    email_b, name_b = identity_keys(snapshot(email="JNunez@work.example", first_name="jose",
                                             last_name="NUNEZ", zip="53703"))
    assert email_a != email_b and name_a == name_b
    assert identity_keys(snapshot(email="JOSE@example.org "))[0] == email_a
    assert identity_keys(snapshot(zip="53704"))[1] != name_a
    assert identity_keys(snapshot(first_name="Maria"))[1] != name_a


def test_placeholders_the_fec_rejects_are_flagged() -> None:
    from chalicelib.compliance.best_efforts import is_placeholder

    for bad in ("Information Requested", "N/A", "none", "Self", "J.S.", "J. S.", "J", " ", "n.a."):
        assert is_placeholder(bad), bad
    for good in ("Retired", "Not employed", "Self-employed", "Acme Corp", "Teacher", "IBM", "GE"):
        assert not is_placeholder(good), good
