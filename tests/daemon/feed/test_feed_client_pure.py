"""Pure helpers of the feed client: connect target, backoff, ack normalisation."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from rugsd.daemon.config import FeedConfig
from rugsd.daemon.feed.client import backoff_delay, connect_target, normalize_ack


def test_real_venue_gets_query_string_and_origin_header() -> None:
    feed = FeedConfig()

    url, headers = connect_target("https://backend.rugs.fun", feed)

    assert url == "https://backend.rugs.fun?frontend-version=1.0"
    assert headers == {"Origin": "https://rugs.fun"}


def test_local_simulator_url_is_left_alone() -> None:
    url, headers = connect_target("http://127.0.0.1:8765", FeedConfig())

    assert url == "http://127.0.0.1:8765" and headers == {}


def test_explicit_query_on_the_real_venue_is_kept() -> None:
    url, _ = connect_target("https://backend.rugs.fun/?frontend-version=2.0", FeedConfig())

    assert url.endswith("frontend-version=2.0") and url.count("?") == 1


@given(
    attempt=st.integers(0, 10_000),
    base=st.floats(0.01, 60),
    cap=st.floats(0.01, 600),
    jitter=st.floats(0, 1),
    u=st.floats(0, 1, exclude_max=True),
)
def test_backoff_is_capped_and_never_negative(attempt, base, cap, jitter, u) -> None:
    delay = backoff_delay(attempt, base, cap, jitter, u)

    assert 0 <= delay <= cap * (1 + jitter) + 1e-9


def test_backoff_doubles_until_the_cap_without_jitter() -> None:
    delays = [backoff_delay(a, 0.5, 4.0, 0.0, 0.5) for a in range(6)]

    assert delays == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]


def test_ack_normalisation_keeps_dicts_and_wraps_the_rest() -> None:
    assert normalize_ack({"success": True}) == {"success": True}
    assert normalize_ack(({"__trace": True}, {"success": True})) == {"success": True}
    wrapped = normalize_ack("ok")
    assert wrapped["success"] is False and wrapped["raw"] == "ok"
