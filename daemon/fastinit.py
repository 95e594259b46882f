"""A faster ``__init__`` for frozen, slotted dataclasses on the hot path.

A frozen dataclass's generated ``__init__`` stores each field through
``object.__setattr__(self, name, value)`` (a name lookup per field, since the class's
own ``__setattr__`` refuses). ``fast_init`` replaces it with an ``__init__`` that calls
each slot's descriptor directly: same signature (names, order, defaults), same object,
still frozen — about half the cost, which matters for the records, events and views
built on every tick. Only for classes without ``default_factory``, ``__post_init__``,
``InitVar``, ``init=False`` or keyword-only fields (refused at import: ``TypeError``).
``tests/daemon/test_daemon_fastinit.py`` proves both initialisers build equal objects.
"""

from __future__ import annotations

import dataclasses
from typing import Any, TypeVar

T = TypeVar("T")


def fast_init(cls: type[T]) -> type[T]:
    """Give the frozen slotted dataclass ``cls`` a descriptor-based ``__init__``."""
    params = getattr(cls, "__dataclass_params__", None)
    if params is None or not params.frozen or "__slots__" not in cls.__dict__:
        raise TypeError(f"{cls.__name__}: fast_init is for frozen, slotted dataclasses")
    if hasattr(cls, "__post_init__"):
        raise TypeError(f"{cls.__name__}: fast_init does not run __post_init__")
    args: list[str] = []
    body: list[str] = []
    env: dict[str, Any] = {}
    for i, f in enumerate(dataclasses.fields(cls)):
        if not f.init or f.kw_only or f.default_factory is not dataclasses.MISSING:
            raise TypeError(f"{cls.__name__}.{f.name}: fast_init needs plain fields")
        if f.default is dataclasses.MISSING:
            args.append(f.name)
        else:
            env[f"_d{i}"] = f.default
            args.append(f"{f.name}=_d{i}")
        env[f"_s{i}"] = cls.__dict__[f.name].__set__  # the slot's member descriptor
        body.append(f"    _s{i}(self, {f.name})")
    src = f"def __init__(self, {', '.join(args)}):\n" + ("\n".join(body) or "    pass") + "\n"
    exec(src, env)  # noqa: S102 -- generated from the class's own field names, as dataclasses does
    init = env["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    init.__doc__ = cls.__init__.__doc__
    cls.__init__ = init  # type: ignore[misc]
    return cls
