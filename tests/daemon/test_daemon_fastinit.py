"""``fast_init``: the descriptor-based ``__init__`` builds the objects the dataclass one
builds (every field, defaults included), and they stay frozen."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import pytest

from rugsd.daemon.core.decision import LastDecision
from rugsd.daemon.events import GameUpdate, SessionStats
from rugsd.daemon.fastinit import fast_init
from rugsd.daemon.journal.records import (
    DecisionRecord,
    FillRecord,
    GameRecord,
    OrderRecord,
    PositionSnapshot,
    TickRecord,
)
from rugsd.daemon.state.transitions import TickAdvanced
from rugsd.daemon.state.view import GameView
from rugsd.risk.states import RiskState
from rugsd.strategy.base import Decision, ModelOutputs
from rugsd.strategy.features_account import Commitments

FAST = [GameUpdate, SessionStats, DecisionRecord, OrderRecord, FillRecord, PositionSnapshot,
        TickRecord, GameRecord, GameView, TickAdvanced, ModelOutputs, Decision, Commitments,
        LastDecision, RiskState]


def _plain_twin(cls: type) -> type:
    """The same fields, with the dataclass-generated ``__init__``."""
    spec = [(f.name, f.type, field(default=f.default)) if f.default is not dataclasses.MISSING
            else (f.name, f.type) for f in dataclasses.fields(cls)]
    return dataclasses.make_dataclass(cls.__name__ + "Twin", spec, frozen=True, slots=True)


@pytest.mark.parametrize("cls", FAST, ids=lambda c: c.__name__)
def test_fast_init_sets_every_field_like_the_dataclass_init(cls: type) -> None:
    fields = dataclasses.fields(cls)
    values = [object() for _ in fields]  # distinct sentinels: a swapped field shows
    fast = cls(*values)
    twin = _plain_twin(cls)(*values)
    assert [getattr(fast, f.name) for f in fields] == [getattr(twin, f.name) for f in fields]
    assert [getattr(fast, f.name) for f in fields] == values
    by_name = cls(**{f.name: v for f, v in zip(fields, values, strict=True)})
    assert by_name == fast
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(fast, fields[0].name, 1)


@pytest.mark.parametrize("cls", FAST, ids=lambda c: c.__name__)
def test_fast_init_keeps_the_defaults(cls: type) -> None:
    fields = dataclasses.fields(cls)
    required = [object() for f in fields if f.default is dataclasses.MISSING]
    fast = cls(*required)
    twin = _plain_twin(cls)(*required)
    assert [getattr(fast, f.name) for f in fields] == [getattr(twin, f.name) for f in fields]
    with pytest.raises(TypeError):
        cls(*required, *[None] * (len(fields) - len(required) + 1))  # too many


def test_fast_init_refuses_what_it_cannot_reproduce() -> None:
    @dataclass(frozen=True, slots=True)
    class Factory:
        xs: list = field(default_factory=list)

    @dataclass(slots=True)
    class Mutable:
        x: int

    with pytest.raises(TypeError):
        fast_init(Factory)
    with pytest.raises(TypeError):
        fast_init(Mutable)
