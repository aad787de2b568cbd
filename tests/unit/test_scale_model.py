"""The scale model's arithmetic (devtools/bench/scale_model.py) on fixed inputs: loads from
per-request figures, Little's law for concurrency, shards needed, the first limit to break and
the hour's cost. No timing: every input is given."""

from __future__ import annotations

import pytest

from devtools.bench import scale_model as sm

STEPS = {
    "page view": sm.Step(requests=0, wru=0, rru=0, ms=5, bytes=20_000),
    "script": sm.Step(0, 0, 0, 1, 10_000),
    "progress": sm.Step(1, 0, 10, 8, 200),
    "beacon": sm.Step(2, 4.0, 1.0, 20, 100),
    "intake": sm.Step(6, 20.0, 8.0, 100, 300),
    "webhook": sm.Step(2, 27.0, 4.0, 50, 50),
    "thank-you page": sm.Step(1, 0, 2.0, 30, 5_000),
}
FAMILIES = (
    sm.Family("counters:page#p#<n>", keys=20, wru=2.0, driver="donation"),
    sm.Family("counters:visits#p#<n>", keys=20, wru=1.0, driver="view"),
    sm.Family("donations:don_<id>", keys=300, wru=10.0, driver="donation"),
)
MEASURED = sm.Measured(STEPS, FAMILIES, emails_per_donation=1.0, stripe_per_intake=1.0,
                       messages_per_donation=1.5, drain_ms_per_message=40,
                       reserved={"api_handler": 850})
NIGHT = sm.Scenario()  # 3,000 contributions/s, 30,000 views/s, one hour, 60 s views


def by_name(rows: list[sm.Row], start: str) -> sm.Row:
    return next(r for r in rows if r.resource.startswith(start))


def test_origin_and_edge_rates_follow_views_and_contributions() -> None:
    assert sm.origin_rps(MEASURED, NIGHT) == {"beacon": 30_000, "intake": 3_000, "webhook": 3_000,
                                              "thank-you page": 3_000}
    # Each view: page, script, 3 polls (60 s at one per 20 s), and the beacon; donors' three.
    assert sm.edge_rps(MEASURED, NIGHT) == 30_000 * 5 + 3 * 3_000 + 30_000


def test_concurrency_is_arrivals_times_duration() -> None:
    api = sm.concurrency(MEASURED, NIGHT, ("beacon", "intake", "webhook", "thank-you page"))
    assert api == pytest.approx(30_000 * 0.020 + 3_000 * (0.100 + 0.050 + 0.030))  # 1,140
    rows = sm.rows(MEASURED, NIGHT)
    handler = by_name(rows, "Lambda concurrency, `api_handler`")
    assert handler.quota.value == 850 and handler.breaks
    assert handler.action() == "raise to 1,710 executions (2.0x)"
    account = by_name(rows, "Lambda concurrency, account")
    assert account.load == pytest.approx(1_140 + 4_500 * 0.040)


def test_a_sharded_key_family_needs_more_shards_not_a_quota() -> None:
    rows = sm.rows(MEASURED, NIGHT)
    visits = by_name(rows, "DynamoDB key `counters:visits#p#<n>`")
    assert visits.load == pytest.approx(30_000 * 1.0 / 20)  # 1,500 WRU/s on each of 20 keys
    assert visits.breaks and not visits.quota.raisable
    assert sm.shards_needed(visits, 20) == 45  # 20 x 1.5 x 1.5
    page = by_name(rows, "DynamoDB key `counters:page#p#<n>`")
    assert page.load == pytest.approx(300.0) and not page.breaks
    assert page.headroom == pytest.approx(1_000 / 300)
    # One key per donation is never a hot key: left out of the per-key rows.
    assert not any("don_<id>" in r.resource and "per key" in r.resource for r in rows)
    table = sm.table(rows, MEASURED)
    assert "set COUNTER_SHARDS ≥ 45" in table


def test_tables_add_their_families_and_meet_the_warm_throughput() -> None:
    rows = sm.rows(MEASURED, NIGHT)
    counters = by_name(rows, "DynamoDB table `counters` (writes)")
    assert counters.load == pytest.approx(3_000 * 2.0 + 30_000 * 1.0)
    cold = by_name(rows, "DynamoDB table `counters` (from cold)")
    assert cold.quota.value == 4_000 and cold.action() == "raise to 54,000 WRU/s (13.5x)"


def test_the_first_limit_to_break_is_the_one_most_over_its_quota() -> None:
    rows = sm.rows(MEASURED, NIGHT)
    first = sm.first_to_break(rows)
    # 4,500 messages/s against the drain's 14/s (10 shard workers at 25/s each, capped by SES's
    # 14/s) is 321x over: before SES's 3,000 emails/s against 14 (214x) or Stripe's 3,025
    # requests/s against 100.
    assert first is not None and first.resource.startswith("outbox drain")
    assert first.utilization == pytest.approx(4_500 / 14)
    assert by_name(rows, "SES sends").utilization == pytest.approx(3_000 / 14)
    assert by_name(rows, "Stripe requests").load == 3_025
    quiet = sm.Scenario(contributions_per_second=0.01, views_per_second=0.1)
    assert sm.first_to_break(sm.rows(MEASURED, quiet)) is None


def test_the_drains_capacity_is_shards_times_a_workers_rate_capped_by_ses() -> None:
    from dataclasses import replace

    slow = replace(MEASURED, drain_ms_per_message=1_000, drain_shards=10)  # 1 message/s each
    drain = by_name(sm.rows(slow, NIGHT), "outbox drain")
    assert drain.quota.value == pytest.approx(10.0) and "OUTBOX_SHARDS=10" in drain.quota.name
    wide = replace(MEASURED, drain_shards=40)  # 40 x 25/s = 1,000/s: SES's 14/s binds
    assert by_name(sm.rows(wide, NIGHT), "outbox drain").quota.value == pytest.approx(14.0)
    # 4,500 x 1.5 / 1 message/s per worker: the shards the night needs at that rate
    assert "set OUTBOX_SHARDS ≥ 6,750" in sm.table(sm.rows(slow, NIGHT), slow)


def test_the_hours_cost_at_list_prices() -> None:
    prices = {"lambda_gb_second": 0.0000166667, "lambda_request": 0.20 / 1e6,
              "api_gateway_rest_request": 3.50 / 1e6, "dynamodb_wru": 0.625 / 1e6,
              "dynamodb_rru": 0.125 / 1e6, "ses_email": 0.10 / 1000, **sm.EDGE_PRICES}
    cost = sm.hour_cost(MEASURED, NIGHT, prices, lambda_gb=0.5)
    origin = 39_000 * 3600  # requests in the hour
    assert cost["API Gateway (REST)"] == pytest.approx(origin * 3.50 / 1e6)  # $491.40
    assert cost["Lambda requests"] == pytest.approx(origin * 0.20 / 1e6)
    seconds = (1_140 + 4_500 * 0.040) * 3600
    assert cost["Lambda duration"] == pytest.approx(seconds * 0.5 * 0.0000166667)
    wru = (3_000 * (2.0 + 10.0) + 30_000 * 1.0) * 3600
    assert cost["DynamoDB writes"] == pytest.approx(wru * 0.625 / 1e6)
    rru = (30_000 * 1.0 + 3_000 * (8.0 + 4.0 + 2.0)) * 3600
    assert cost["DynamoDB reads"] == pytest.approx(rru * 0.125 / 1e6)
    edge_requests = (30_000 * 5 + 39_000) * 3600
    assert cost["CloudFront requests"] == pytest.approx(edge_requests / 1e6)
    assert cost["WAF requests"] == pytest.approx(edge_requests * 0.60 / 1e6)
    view_bytes = 20_000 + 10_000 + 3 * 200
    origin_bytes = 30_000 * 100 + 3_000 * (300 + 50 + 5_000)
    assert cost["CloudFront data out"] == pytest.approx(
        (30_000 * view_bytes + origin_bytes) * 3600 / 1e9 * 0.085)
    assert cost["SES"] == pytest.approx(3_000 * 3600 * 0.10 / 1000)  # $1,080
