"""Browser mode says which account it trades and why, and warns loudly when that account
is far from the one the model bundle was trained on; the embedded simulator opens its
practice accounts at the paper account's size."""

from __future__ import annotations

from types import SimpleNamespace

from rugsd.daemon.config import Settings
from rugsd.daemon.runtime.browser_bridge import account_origin, trained_on
from rugsd.daemon.runtime.venue import Venue, embedded_sim_config

SOL = 1_000_000_000
BUNDLE = ("v1", 1.0)


def test_the_embedded_simulator_opens_accounts_at_the_paper_size():
    s = Settings(sim={"starting_balance_sol": 10.0}, paper={"starting_balance_sol": 1.0})
    assert embedded_sim_config(s).starting_balance_sol == 1.0
    assert s.sim.starting_balance_sol == 10.0  # a standalone `rugsd sim` keeps its own


def test_the_banner_names_the_account_and_why():
    embedded = Venue("http://127.0.0.1:1", True, practice_sol=1.0)
    line, warning = account_origin(SOL, embedded, "paper", BUNDLE)
    assert line == ("account 1.0000 SOL: the embedded simulator's practice account, opened "
                    "at paper.starting_balance_sol = 1 SOL; bundle v1 was trained on a 1 SOL "
                    "account") and warning is None

    running = Venue("http://127.0.0.1:8765", True)
    line, warning = account_origin(10 * SOL, running, "paper", BUNDLE)
    assert "running simulator at http://127.0.0.1:8765" in line
    assert warning is not None and "far from the 1 SOL bundle v1 was trained on" in warning

    live = Venue("https://backend.rugs.fun", False)
    line, warning = account_origin(SOL // 10, live, "live", BUNDLE)
    assert "your venue account" in line and warning is not None  # 0.1 SOL < 1/3 of 1 SOL
    line, warning = account_origin(2 * SOL, live, "live", None)
    assert "records no training account size" in line and warning is None


def test_the_training_size_comes_from_the_bundle_manifest():
    manifest = SimpleNamespace(version="v9", train_balance_sol=1.0)
    assert trained_on(SimpleNamespace(bundle=SimpleNamespace(manifest=manifest))) == ("v9", 1.0)
    assert trained_on(SimpleNamespace(name="never")) is None
    # a size-invariant bundle (schema 2) records no size: any account is in range
    invariant = SimpleNamespace(version="v10", train_balance_sol=None)
    trained = trained_on(SimpleNamespace(bundle=SimpleNamespace(manifest=invariant)))
    assert trained == ("v10", None)
    line, warning = account_origin(10 * SOL, Venue("https://backend.rugs.fun", False),
                                   "live", trained)
    assert "bundle v10 is size-invariant" in line and warning is None
