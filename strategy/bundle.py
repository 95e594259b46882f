"""Model bundles: a folder with ``policy.onnx``, ``sidebet.onnx``, ``manifest.json`` and,
optionally, ``decide.onnx`` (both models in one graph, named by ``manifest.decide_file``).

``load_bundle`` refuses, with one ``BundleError`` line, anything the running code cannot
use safely: a feature schema hash or action list that differs from the code's, a missing
or corrupt file, an ONNX graph onnxruntime cannot load, or inputs/outputs that break the
graph contracts:

- policy: input ``obs`` float32 [N, n_features] and input ``mask`` float32 or bool
  [N, n_actions] (1/True = valid; the graph folds the mask in: invalid logits very
  negative), output ``logits`` float32 [N, n_actions]; normalisation lives in the graph;
- sidebet: input ``obs`` float32 [N, n_features] → output ``p_rug`` float32 [N, 1],
  the probability of a rug within 40 ticks.

- decide (optional): the policy and sidebet graphs side by side in one graph (built by
  ``rugsd.training.decide_graph``): inputs ``obs`` and ``mask`` as the policy's, outputs
  ``logits`` [N, n_actions] and ``p_rug`` [N, 1]. The strategy then makes one onnxruntime
  call per tick instead of two. Bundles without it load and decide as before.

Both graphs also get one probe run on a zero row at load, which catches graphs whose
declared shapes lie. A combined graph must agree bit for bit with the two separate graphs
on a fixed set of probe rows and masks (the zero row first), and the policy's logits must
not depend on the SIDEBET mask bit anywhere else (the strategy runs the combined graph
with the venue's mask and clears SIDEBET afterwards; see ``OnnxStrategy.decide``). ``models_dir/current`` (a symlink to, or a text file naming, the
promoted version folder; managed by training) is resolved by ``resolve_current``.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from rugsd.strategy.actions import ACTION_NAMES, N_ACTIONS, SIDEBET_INDEX
from rugsd.strategy.features import FEATURE_NAMES, N_FEATURES, SCHEMA_VERSION, schema_hash
from rugsd.strategy.onnx_runtime import (
    DecideModel,
    ModelSignatureError,
    PolicyModel,
    SidebetModel,
    make_session,
)

POLICY_FILE = "policy.onnx"
SIDEBET_FILE = "sidebet.onnx"
DECIDE_FILE = "decide.onnx"
MANIFEST_FILE = "manifest.json"
CURRENT = "current"


class BundleError(Exception):
    """A bundle cannot be used; the message is one line saying why."""


class Manifest(BaseModel):
    """``manifest.json``: what the models expect and how they were evaluated."""

    model_config = ConfigDict(extra="allow")

    manifest_version: Literal[1] = 1
    version: str = Field(min_length=1)
    created: datetime
    feature_schema_version: int
    feature_schema_hash: str
    feature_names: list[str]
    actions: list[str]
    sidebet_usable: bool  # evaluation beat the constant-hazard baseline; else never bet
    metrics: dict[str, Any] = {}
    data_range: dict[str, Any] = {}
    git_commit: str | None = None
    obs_input: str = "obs"
    mask_input: str = "mask"
    logits_output: str = "logits"
    p_rug_output: str = "p_rug"
    # False: the models never saw the feed's room statistics in training (the episodes
    # and recordings carry none), so the strategy zeroes those features at inference
    # instead of feeding inputs from outside the training distribution
    room_stats_in_training: bool = False
    # the account the policy was trained with (its balance feature); None: unknown
    train_balance_sol: float | None = None
    # sizes the policy was trained with (informational: a difference is logged, not refused)
    buy_sizes_sol: list[float] | None = None
    sidebet_sol: float | None = None
    # the combined policy + sidebet graph in the folder (one call per tick); None: older
    # bundles, which run the two graphs separately
    decide_file: str | None = None


@dataclass(frozen=True)
class Bundle:
    """A loaded, validated bundle: manifest plus ready-to-run models."""

    path: Path
    manifest: Manifest
    policy: PolicyModel
    sidebet: SidebetModel
    decide: DecideModel | None = None  # the combined graph, when the bundle has one

    @property
    def obs_row(self) -> np.ndarray:
        """The float32 [F] row both models read: build features straight into it."""
        return self.policy.row

    @property
    def sidebet_usable(self) -> bool:
        """Whether the sidebet model may be used to bet (see ``Manifest.sidebet_usable``)."""
        return self.manifest.sidebet_usable


def make_manifest(
    version: str,
    *,
    sidebet_usable: bool,
    metrics: dict[str, Any] | None = None,
    data_range: dict[str, Any] | None = None,
    created: datetime | None = None,
    git_commit: str | None = None,
    **extra: Any,
) -> Manifest:
    """A manifest for the running code's feature schema and action table."""
    return Manifest(
        version=version,
        created=created or datetime.now(UTC),
        feature_schema_version=SCHEMA_VERSION,
        feature_schema_hash=schema_hash(),
        feature_names=list(FEATURE_NAMES),
        actions=list(ACTION_NAMES),
        sidebet_usable=sidebet_usable,
        metrics=metrics or {},
        data_range=data_range or {},
        git_commit=git_commit,
        **extra,
    )


def save_bundle(
    path: str | Path,
    policy: bytes,
    sidebet: bytes,
    manifest: Manifest,
    decide: bytes | None = None,
) -> Path:
    """Write a bundle folder (manifest last, so a half-written folder fails to load).

    ``decide``: the combined graph (``rugsd.training.decide_graph.combine_graphs``),
    written as ``decide.onnx`` and named in the manifest.
    """
    folder = Path(path)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / POLICY_FILE).write_bytes(policy)
    (folder / SIDEBET_FILE).write_bytes(sidebet)
    if decide is not None:
        (folder / DECIDE_FILE).write_bytes(decide)
        manifest = manifest.model_copy(update={"decide_file": DECIDE_FILE})
    tmp = folder / (MANIFEST_FILE + ".tmp")
    tmp.write_text(manifest.model_dump_json(indent=2) + "\n")
    os.replace(tmp, folder / MANIFEST_FILE)
    return folder


def resolve_current(models_dir: str | Path) -> Path | None:
    """The promoted bundle folder: ``current`` as a symlink/folder, or a file naming one."""
    cur = Path(models_dir) / CURRENT
    if cur.is_dir():
        return cur.resolve()
    if cur.is_file():
        name = cur.read_text().strip()
        target = (Path(models_dir) / name) if name else None
        if target is not None and target.is_dir():
            return target.resolve()
    return None


def current_bundle(models_dir: str | Path) -> Path | None:
    """The bundle the daemon trades: ``models_dir``'s current one, else (read-only) the
    default bundle shipped with the package (a fresh install's registry is empty)."""
    from rugsd.daemon.dirs import packaged_models_dir

    return resolve_current(models_dir) or resolve_current(packaged_models_dir())


def _first_line(err: BaseException) -> str:
    text = str(err).strip().splitlines()
    return text[0] if text else type(err).__name__


def read_manifest(folder: Path) -> Manifest:
    """Parse and validate ``manifest.json`` or raise ``BundleError``."""
    path = folder / MANIFEST_FILE
    if not path.is_file():
        raise BundleError(f"bundle {folder}: missing {MANIFEST_FILE}")
    try:
        return Manifest.model_validate(json.loads(path.read_text()))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise BundleError(f"bundle {folder}: corrupt {MANIFEST_FILE}: {_first_line(err)}") from None
    except ValidationError as err:
        first = err.errors()[0]
        loc = ".".join(str(p) for p in first["loc"]) or "manifest"
        raise BundleError(
            f"bundle {folder}: invalid {MANIFEST_FILE}: {loc}: {first['msg']}"
        ) from None


def check_manifest(folder: Path, man: Manifest) -> None:
    """Refuse a manifest whose schema or action list differs from the code's."""
    code_hash = schema_hash()
    if man.feature_schema_hash != code_hash or man.feature_names != list(FEATURE_NAMES):
        raise BundleError(
            f"bundle {folder}: feature schema hash {man.feature_schema_hash} "
            f"(v{man.feature_schema_version}, {len(man.feature_names)} features) != code's "
            f"{code_hash} (v{SCHEMA_VERSION}, {N_FEATURES} features): retrain with `rugsd retrain`"
        )
    if man.actions != list(ACTION_NAMES):
        raise BundleError(
            f"bundle {folder}: action list {man.actions} != code's {list(ACTION_NAMES)}"
        )


def _session(folder: Path, name: str):
    path = folder / name
    if not path.is_file():
        raise BundleError(f"bundle {folder}: missing {name}")
    try:
        return make_session(path)
    except Exception as err:  # noqa: BLE001 -- onnxruntime raises many unrelated types
        raise BundleError(f"bundle {folder}: cannot load {name}: {_first_line(err)}") from None


def _probe(folder: Path, policy: PolicyModel, sidebet: SidebetModel) -> None:
    """One run on a zero row: declared shapes can lie, outputs cannot."""
    row = np.zeros(N_FEATURES, dtype=np.float32)
    mask = np.ones(N_ACTIONS, dtype=bool)
    try:
        out = policy.session.run(
            [policy.logits_name],
            {policy.obs_name: row[None], policy.mask_name: mask[None].astype(policy.mask_dtype)},
        )[0]
    except Exception as err:  # noqa: BLE001 -- any failure means: refuse the bundle
        raise BundleError(
            f"bundle {folder}: {POLICY_FILE} fails on a probe row: {_first_line(err)}"
        ) from None
    if out.shape != (1, N_ACTIONS) or out.dtype != np.float32:
        raise BundleError(
            f"bundle {folder}: {POLICY_FILE} returned {out.dtype}{list(out.shape)}, "
            f"want float32[1, {N_ACTIONS}]"
        )
    try:
        p = sidebet.session.run([sidebet.p_rug_name], {sidebet.obs_name: row[None]})[0]
    except Exception as err:  # noqa: BLE001 -- any failure means: refuse the bundle
        raise BundleError(
            f"bundle {folder}: {SIDEBET_FILE} fails on a probe row: {_first_line(err)}"
        ) from None
    if p.shape != (1, 1) or p.dtype != np.float32:
        raise BundleError(
            f"bundle {folder}: {SIDEBET_FILE} returned {p.dtype}{list(p.shape)}, want float32[1, 1]"
        )


def _probe_set() -> list[tuple[np.ndarray, np.ndarray]]:
    """Fixed probe (row, mask) pairs: the zero row, then rows at several scales with
    random masks (SIDEBET valid in most, so the SIDEBET-bit check has work to do)."""
    rng = np.random.default_rng(20261206)
    pairs = [(np.zeros(N_FEATURES, np.float32), np.ones(N_ACTIONS, bool))]
    for k in range(47):
        scale = (0.01, 1.0, 100.0)[k % 3]
        row = (rng.standard_normal(N_FEATURES) * scale).astype(np.float32)
        mask = rng.random(N_ACTIONS) < 0.7
        mask[SIDEBET_INDEX] = k % 4 != 0
        pairs.append((row, mask))
    return pairs


def _check_decide(folder: Path, name: str, decide: DecideModel, policy: PolicyModel,
                  sidebet: SidebetModel) -> None:
    """The combined graph must compute exactly what the two graphs compute."""
    row = policy.row  # shared by the three models; zeroed again afterwards
    try:
        for k, (features, mask) in enumerate(_probe_set()):
            p, logits = decide.run(features, mask)
            got = np.float32(p).tobytes() + logits.tobytes()
            want = np.float32(sidebet.p_rug(row)).tobytes() + policy.logits(row, mask).tobytes()
            if got != want:
                raise BundleError(
                    f"bundle {folder}: {name} disagrees with {POLICY_FILE}/{SIDEBET_FILE} "
                    f"on probe row {k}: not the same models"
                )
            if mask[SIDEBET_INDEX]:  # decide() clears SIDEBET after the run: same logits?
                cleared = mask.copy()
                cleared[SIDEBET_INDEX] = False
                alone = policy.logits(row, cleared)
                if logits[cleared].tobytes() != alone[cleared].tobytes():
                    raise BundleError(
                        f"bundle {folder}: {POLICY_FILE}'s logits depend on the SIDEBET mask "
                        f"bit beyond its own entry (probe row {k}): cannot use {name}"
                    )
    except BundleError:
        raise
    except Exception as err:  # noqa: BLE001 -- any failure means: refuse the bundle
        raise BundleError(
            f"bundle {folder}: {name} fails on a probe row: {_first_line(err)}"
        ) from None
    finally:
        row[:] = 0.0


def _load_decide(folder: Path, man: Manifest, policy: PolicyModel,
                 sidebet: SidebetModel) -> DecideModel | None:
    name = man.decide_file
    if name is None:
        return None
    if Path(name).name != name:
        raise BundleError(f"bundle {folder}: decide_file {name!r} must be a file name in the folder")
    session = _session(folder, name)
    try:
        decide = DecideModel(session, N_FEATURES, N_ACTIONS, man.obs_input, man.mask_input,
                             man.logits_output, man.p_rug_output, policy.row)
    except ModelSignatureError as err:
        raise BundleError(f"bundle {folder}: {err}") from None
    _check_decide(folder, name, decide, policy, sidebet)
    return decide


def load_bundle(path: str | Path) -> Bundle:
    """Load and validate a bundle folder, or raise a one-line ``BundleError``."""
    folder = Path(path)
    if not folder.is_dir():
        raise BundleError(f"bundle {folder}: not a folder")
    man = read_manifest(folder)
    check_manifest(folder, man)
    pol_sess = _session(folder, POLICY_FILE)
    side_sess = _session(folder, SIDEBET_FILE)
    row = np.zeros(N_FEATURES, dtype=np.float32)  # one obs row shared by both models
    try:
        policy = PolicyModel(
            pol_sess, N_FEATURES, N_ACTIONS, man.obs_input, man.mask_input, man.logits_output, row
        )
        sidebet = SidebetModel(side_sess, N_FEATURES, man.obs_input, man.p_rug_output, row)
    except ModelSignatureError as err:
        raise BundleError(f"bundle {folder}: {err}") from None
    _probe(folder, policy, sidebet)
    return Bundle(folder, man, policy, sidebet, _load_decide(folder, man, policy, sidebet))
