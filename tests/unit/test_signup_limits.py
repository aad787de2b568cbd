"""Signup limits per address and per network (issue 12, finding 10): the rule without storage."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from chalicelib.giving.velocity import RateLimited, SignupLimits, check_signup, network, signup_keys

LIMITS = SignupLimits(window_seconds=3600, per_ip=3, per_network=5)
T0 = datetime(2026, 5, 1, 12, 0, tzinfo=timezone.utc)  # the start of a window


@pytest.mark.parametrize(("ip", "block"), [
    ("198.51.100.7", "198.51.100.0/24"),
    (" 198.51.100.250 ", "198.51.100.0/24"),
    ("2001:db8:1:2:aaaa::1", "2001:db8:1:2::/64"),
    ("2001:DB8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:2::/64"),
    ("::ffff:198.51.100.9", "198.51.100.0/24"),  # an IPv4 client seen through IPv6
])
def test_an_address_counts_with_its_network(ip: str, block: str) -> None:
    assert network(ip) == block


def test_addresses_of_one_network_share_its_limit_and_keys_carry_no_address() -> None:
    one, other = signup_keys("198.51.100.7", T0, LIMITS), signup_keys("198.51.100.8", T0, LIMITS)
    assert one[0] != other[0] and one[2] == other[2]  # own address counter, shared network counter
    assert not any("198.51" in key for key in one)
    assert signup_keys("198.51.101.7", T0, LIMITS)[2] != one[2]
    # IPv6: an address is counted by its /64 (one subscriber), both as "the address" and network
    six, same_subscriber = (signup_keys(ip, T0, LIMITS) for ip in ("2001:db8::1", "2001:db8::ffff:2"))
    assert six == same_subscriber


def test_the_limits_hold_over_a_sliding_window() -> None:
    ip_now, ip_before, net_now, _net_before = signup_keys("198.51.100.7", T0, LIMITS)
    check_signup({ip_now: 2, net_now: 4}, "198.51.100.7", T0, LIMITS)
    with pytest.raises(RateLimited) as err:
        check_signup({ip_now: 3}, "198.51.100.7", T0, LIMITS)
    assert err.value.extra["retry_after"] == 3600
    with pytest.raises(RateLimited):
        check_signup({net_now: 5}, "198.51.100.7", T0, LIMITS)
    # a burst just before the window turned still counts, by its overlap
    with pytest.raises(RateLimited):
        check_signup({ip_before: 4}, "198.51.100.7", T0.replace(minute=5), LIMITS)
    check_signup({ip_before: 4}, "198.51.100.7", T0.replace(minute=30), LIMITS)
