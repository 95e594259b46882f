"""onnxruntime sessions for the policy and the sidebet model, tuned for one row per tick.

Sessions run single-threaded and sequential on the CPU provider with every graph
optimisation on: for graphs this small, threads only add wake-up latency. Each model
wraps its session with preallocated input arrays and an IOBinding that points
onnxruntime at them (and at a preallocated output), so a per-tick call is: copy the
features in, ``run_with_iobinding``, read the output buffer — no allocations, no dicts.
Measured on the 2-core box, 40-feature linear graph: ``session.run`` 7.4 µs,
``run_with_ort_values`` 35 µs (!), IOBinding 3.8 µs (4.8 µs with the input copies).
Both models can share one obs row (``row=``), and a ``FeatureBuilder`` can write
straight into it, so the per-tick path copies nothing. A bundle's combined graph
(``DecideModel``: both models in one graph) reads the same row and costs one call per
tick instead of two (~3-4 µs of fixed overhead each): 8.8 µs vs 12.0 µs measured.

Shape/dtype problems surface as ``ModelSignatureError`` at construction (the bundle
loader turns them into a one-line ``BundleError``).
"""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import onnxruntime as ort

_FLOAT = "tensor(float)"
_BOOL = "tensor(bool)"


class ModelSignatureError(ValueError):
    """A graph's inputs/outputs do not match the contract."""


def make_session(model: str | Path | bytes) -> ort.InferenceSession:
    """An InferenceSession tuned for single-row latency (1 thread, sequential, CPU)."""
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    so.log_severity_level = 3  # errors only: warnings about unused initialisers are noise
    src = model if isinstance(model, bytes) else str(model)
    return ort.InferenceSession(src, sess_options=so, providers=["CPUExecutionProvider"])


def _dims_ok(shape: list, expected: list[int | None]) -> bool:
    """Static dims must match ``expected`` (None = any); symbolic dims are accepted."""
    if len(shape) != len(expected):
        return False
    return all(e is None or not isinstance(s, int) or s == e for s, e in zip(shape, expected))


def _find(args: list, name: str, kind: str, what: str) -> ort.NodeArg:
    for arg in args:
        if arg.name == name:
            return arg
    names = [a.name for a in args]
    raise ModelSignatureError(f"{what}: no {kind} named {name!r} (has {names})")


def _check(arg: ort.NodeArg, types: tuple[str, ...], dims: list[int | None], what: str) -> None:
    if arg.type not in types:
        raise ModelSignatureError(f"{what}: {arg.name!r} has type {arg.type}, want {types}")
    if not _dims_ok(list(arg.shape), dims):
        want = ["N" if d is None else d for d in dims]
        raise ModelSignatureError(f"{what}: {arg.name!r} has shape {arg.shape}, want {want}")


def _row_buffer(row: np.ndarray | None, n_features: int) -> np.ndarray:
    if row is None:
        return np.zeros(n_features, dtype=np.float32)
    if row.shape != (n_features,) or row.dtype != np.float32 or not row.flags.c_contiguous:
        raise ValueError(f"obs row must be a C-contiguous float32[{n_features}]")
    return row


def _mask_buffer(mask: ort.NodeArg, n_actions: int):
    """(dtype, [1, A] buffer, packer) for a mask input of type float32 or bool."""
    dtype = np.dtype(bool) if mask.type == _BOOL else np.dtype(np.float32)
    buf = np.zeros((1, n_actions), dtype=dtype)
    # a list of bools into the mask buffer: struct packs True/False as 1/0 (or 1.0/0.0)
    pack = struct.Struct(f"={n_actions}{'?' if mask.type == _BOOL else 'f'}").pack_into
    return dtype, buf, pack


class _Bound:
    """A session plus an IOBinding over preallocated single-row buffers."""

    def __init__(
        self,
        session: ort.InferenceSession,
        inputs: dict[str, np.ndarray],
        outputs: dict[str, tuple[int, ...]],
    ) -> None:
        self.session = session
        # float32 output buffers, in ``outputs`` order; ``out`` is the first
        self.outs = [np.zeros(shape, dtype=np.float32) for shape in outputs.values()]
        self.out = self.outs[0]
        self.binding = session.io_binding()
        for name, arr in inputs.items():
            self.binding.bind_input(name, "cpu", 0, arr.dtype, list(arr.shape), arr.ctypes.data)
        for (name, shape), buf in zip(outputs.items(), self.outs, strict=True):
            self.binding.bind_output(name, "cpu", 0, np.float32, list(shape), buf.ctypes.data)
        # the C call under ``InferenceSession.run_with_iobinding`` (whose Python wrapper
        # costs ~1 µs per tick); the public method when a version lacks the attributes
        c_session = getattr(session, "_sess", None)
        c_binding = getattr(self.binding, "_iobinding", None)
        if c_session is not None and c_binding is not None:
            run_c, arg = c_session.run_with_iobinding, c_binding
        else:
            run_c, arg = session.run_with_iobinding, self.binding
        self._call = (run_c, arg)

    def run(self) -> np.ndarray:
        run_c, arg = self._call
        run_c(arg, None)
        return self.out


class _ObsMaskModel:
    """A graph with inputs ``obs`` [N, F] and ``mask`` [N, A] (float32 or bool, 1/True =
    valid) and float32 outputs [N, width], bound to one row and one mask buffer."""

    def __init__(
        self,
        what: str,
        session: ort.InferenceSession,
        n_features: int,
        n_actions: int,
        obs_name: str,
        mask_name: str,
        outputs: dict[str, int],
        row: np.ndarray | None,
    ) -> None:
        obs = _find(session.get_inputs(), obs_name, "input", what)
        mask = _find(session.get_inputs(), mask_name, "input", what)
        found = [_find(session.get_outputs(), name, "output", what) for name in outputs]
        if len(session.get_inputs()) != 2:
            names = [a.name for a in session.get_inputs()]
            raise ModelSignatureError(f"{what}: want inputs [{obs_name}, {mask_name}], has {names}")
        _check(obs, (_FLOAT,), [None, n_features], what)
        _check(mask, (_FLOAT, _BOOL), [None, n_actions], what)
        for arg, width in zip(found, outputs.values(), strict=True):
            _check(arg, (_FLOAT,), [None, width], what)
        self.session = session
        self.n_features, self.n_actions = n_features, n_actions
        self.obs_name, self.mask_name = obs_name, mask_name
        self.row = _row_buffer(row, n_features)  # callers may write features straight in
        self.obs = self.row.reshape(1, n_features)  # same memory, the [1, F] input
        self.mask_dtype, self.mask, self._pack_mask = _mask_buffer(mask, n_actions)
        self._bound = _Bound(
            session,
            {obs_name: self.obs, mask_name: self.mask},
            {name: (1, width) for name, width in outputs.items()},
        )

    def _fill(self, features: np.ndarray, mask: np.ndarray | list[bool]) -> None:
        """Copy one row (unless it is ``self.row`` itself) and its mask into the buffers."""
        if features is not self.row:
            self.row[:] = features
        if type(mask) is list and len(mask) == self.n_actions:
            self._pack_mask(self.mask, 0, *mask)
        else:
            self.mask[0] = mask


class PolicyModel(_ObsMaskModel):
    """The policy graph: (obs [N, F], mask [N, A]) → logits [N, A]."""

    def __init__(
        self,
        session: ort.InferenceSession,
        n_features: int,
        n_actions: int,
        obs_name: str = "obs",
        mask_name: str = "mask",
        logits_name: str = "logits",
        row: np.ndarray | None = None,
    ) -> None:
        """Check the signature; preallocate buffers (or adopt ``row``, float32 [F])."""
        super().__init__("policy", session, n_features, n_actions, obs_name, mask_name,
                         {logits_name: n_actions}, row)
        self.logits_name = logits_name

    def logits(self, features: np.ndarray, mask: np.ndarray | list[bool]) -> np.ndarray:
        """Logits [A] for one row (the returned array is reused by the next call).

        ``features`` may be ``self.row`` itself (written in place): then nothing is copied.
        """
        self._fill(features, mask)
        return self._bound.run()[0]

    def logits_batch(self, obs: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """Logits [N, A] for a batch (backtests): plain ``session.run``."""
        feed = {
            self.obs_name: np.ascontiguousarray(obs, dtype=np.float32),
            self.mask_name: np.ascontiguousarray(mask, dtype=self.mask_dtype),
        }
        return self.session.run([self.logits_name], feed)[0]


class SidebetModel:
    """The sidebet graph: obs [N, F] → p_rug [N, 1] (rug within 40 ticks)."""

    def __init__(
        self,
        session: ort.InferenceSession,
        n_features: int,
        obs_name: str = "obs",
        p_rug_name: str = "p_rug",
        row: np.ndarray | None = None,
    ) -> None:
        """Check the signature; preallocate buffers (or adopt ``row``, float32 [F])."""
        what = "sidebet"
        if len(session.get_inputs()) != 1:
            names = [a.name for a in session.get_inputs()]
            raise ModelSignatureError(f"{what}: want one input {obs_name!r}, has {names}")
        obs = _find(session.get_inputs(), obs_name, "input", what)
        out = _find(session.get_outputs(), p_rug_name, "output", what)
        _check(obs, (_FLOAT,), [None, n_features], what)
        _check(out, (_FLOAT,), [None, 1], what)
        self.session = session
        self.n_features = n_features
        self.obs_name, self.p_rug_name = obs_name, p_rug_name
        self.row = _row_buffer(row, n_features)  # callers may write features straight in
        self.obs = self.row.reshape(1, n_features)  # same memory, the [1, F] input
        self._bound = _Bound(session, {obs_name: self.obs}, {p_rug_name: (1, 1)})

    def p_rug(self, features: np.ndarray) -> float:
        """P(rug within 40 ticks) for one row (may be non-finite if the model is broken)."""
        if features is not self.row:
            self.row[:] = features
        return float(self._bound.run()[0, 0])

    def p_rug_batch(self, obs: np.ndarray) -> np.ndarray:
        """p_rug [N] for a batch (backtests)."""
        feed = {self.obs_name: np.ascontiguousarray(obs, dtype=np.float32)}
        return self.session.run([self.p_rug_name], feed)[0][:, 0]


class DecideModel(_ObsMaskModel):
    """The combined graph (``decide.onnx``): (obs [N, F], mask [N, A]) → (logits [N, A],
    p_rug [N, 1]) — the policy and the sidebet model in one onnxruntime call per tick."""

    def __init__(
        self,
        session: ort.InferenceSession,
        n_features: int,
        n_actions: int,
        obs_name: str = "obs",
        mask_name: str = "mask",
        logits_name: str = "logits",
        p_rug_name: str = "p_rug",
        row: np.ndarray | None = None,
    ) -> None:
        """Check the signature; preallocate buffers (or adopt ``row``, float32 [F])."""
        super().__init__("decide", session, n_features, n_actions, obs_name, mask_name,
                         {logits_name: n_actions, p_rug_name: 1}, row)
        self.logits_name, self.p_rug_name = logits_name, p_rug_name
        self._logits, self._p_rug = self._bound.outs

    def run(self, features: np.ndarray, mask: np.ndarray | list[bool]) -> tuple[float, np.ndarray]:
        """(p_rug, logits [A]) for one row (the logits array is reused by the next call).

        ``features`` may be ``self.row`` itself (written in place): then nothing is copied.
        """
        self._fill(features, mask)
        self._bound.run()
        return float(self._p_rug[0, 0]), self._logits[0]
