"""Orders-per-minute sliding window: exact at the 60 s boundary, matches a brute-force count."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from rugsd.risk.ratelimit import WINDOW_MS, RateWindow

T0 = 1_700_000_000_000


def test_the_order_sent_exactly_a_window_ago_no_longer_counts():
    window = RateWindow()
    for k in range(3):
        window = window.record(T0 + k * 1000)

    assert not window.allows(T0 + WINDOW_MS - 1, 3)  # first order still inside
    assert window.count(T0 + WINDOW_MS - 1) == 3
    assert window.allows(T0 + WINDOW_MS, 3)  # first order just left the window
    assert window.count(T0 + WINDOW_MS) == 2


def test_recording_prunes_expired_times():
    window = RateWindow().record(T0).record(T0 + 10).record(T0 + WINDOW_MS + 10)
    assert window.times == (T0 + WINDOW_MS + 10,)


def test_a_clock_step_back_still_counts_the_later_orders():
    window = RateWindow().record(T0 + 5000)
    assert window.count(T0) == 1 and not window.allows(T0, 1)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.integers(0, 3 * WINDOW_MS), max_size=60), st.integers(1, 10),
       st.integers(0, 4 * WINDOW_MS))
def test_window_never_admits_more_than_the_limit(gaps, limit, probe):
    window, ts, sent = RateWindow(), T0, []
    for gap in gaps:
        ts += gap % 7000  # many orders close together, some spread out
        if window.allows(ts, limit):
            window = window.record(ts)
            sent.append(ts)
        # brute force: every 60 s window ending at a send time holds <= limit sends
        assert sum(1 for t in sent if ts - WINDOW_MS < t <= ts) <= limit
    at = ts + probe  # pruning never changes a count at or after the last send
    assert window.count(at) == sum(1 for t in sent if at - WINDOW_MS < t)


def test_times_given_out_of_order_count_as_a_brute_force_count_does():
    times = (T0 + 5000, T0 - 70_000, T0 + 100, T0 - 1000)  # a clock that stepped back
    window = RateWindow(times)
    assert window.times == tuple(sorted(times))
    for at in (T0 - 10_000, T0, T0 + 59_000, T0 + 65_000):
        assert window.count(at) == sum(1 for t in times if t > at - WINDOW_MS)
    assert window.record(T0 - 2000).times == (T0 - 2000, T0 - 1000, T0 + 100, T0 + 5000)
