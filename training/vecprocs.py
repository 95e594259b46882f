"""A vectorised training env whose slots are stepped by more than one process.

``RugsVecEnv`` steps its N one-path slots one after another on one core; PPO waits for
them at every step (about 60 % of a vectorised retrain's time). ``ProcVecEnv`` splits the
same N slots into ``processes`` contiguous parts: the first is stepped here, each other
one by a worker process holding a ``RugsVecEnv`` of its part. A step sends every worker
its actions, steps the local part meanwhile, then gathers the workers' answers, so the
parts run at the same time on different cores.

Nothing about a slot changes: part k holds slots ``a_k .. b_k - 1`` seeded ``seed + i``
exactly as ``RugsVecEnv(games, N, seed=seed)`` seeds them, so every slot plays the same
games with the same decisions and rewards (``tests/training/test_training_vecprocs.py``
proves the two envs equal step for step). Only the wall clock differs.

Workers start with ``forkserver`` (a clean process: no threads or locks inherited from
a trainer that runs Ray, torch or a progress display) and receive the games once. A
worker that fails raises its error here, naming the worker; ``close()`` stops them all,
and they are daemonic, so they never outlive the trainer.
"""

from __future__ import annotations

import contextlib
import multiprocessing as mp
from collections.abc import Sequence
from typing import Any

import numpy as np
from stable_baselines3.common.vec_env import VecEnv

from rugsd.training.episodes import GameSpec
from rugsd.training.vecenv import RugsVecEnv, SlotMasks

_START_TIMEOUT_S = 120.0


class WorkerError(RuntimeError):
    """A worker process failed (its error's text) or stopped."""


def _answer(env: RugsVecEnv, cmd: str, arg: Any) -> Any:
    """What the part ``env`` answers to ``cmd``: one dispatch for a worker's part and for
    the part stepped in the trainer's own process."""
    if cmd == "step":
        env.step_async(arg)
        obs, rewards, dones, infos = env.step_wait()
        return obs, rewards, dones, infos, env._masks
    if cmd == "reset":
        return env.reset(), env.reset_infos, env._masks
    if cmd == "seed":
        return env.seed(arg)
    if cmd == "get_attr":
        return env.get_attr(*arg)
    if cmd == "set_attr":
        return env.set_attr(*arg)
    if cmd == "env_method":
        name, args, kwargs, idx = arg
        return env.env_method(name, *args, indices=idx, **kwargs)
    raise ValueError(f"unknown command {cmd!r}")


def _serve(conn, games: Sequence[GameSpec], n_envs: int, seed: int, env_kw: dict) -> None:
    """A worker: one ``RugsVecEnv`` part answering commands until ``close``."""
    try:
        env = RugsVecEnv(games, n_envs, seed=seed, **env_kw)
        conn.send(("ok", None))
    except Exception as err:  # noqa: BLE001 -- reported to the trainer, which raises it
        conn.send(("error", f"{type(err).__name__}: {err}"))
        return
    while True:
        try:
            cmd, arg = conn.recv()
        except EOFError:  # the trainer went away
            return
        if cmd == "close":
            env.close()
            conn.send(("ok", None))
            return
        try:
            out = _answer(env, cmd, arg)
            if cmd == "get_attr":  # a bound method cannot travel
                out = [_Callable(arg[0]) if callable(v) else v for v in out]
        except Exception as err:  # noqa: BLE001 -- as above
            conn.send(("error", f"{type(err).__name__}: {err}"))
            continue
        conn.send(("ok", out))


class _Callable:
    """What ``get_attr`` answers for a worker's method (a bound method cannot travel)."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"<method {self.name} of a worker slot>"


class _Worker:
    def __init__(self, ctx, index: int, games, lo: int, hi: int, seed: int, env_kw) -> None:
        self.index = index
        self.conn, child = ctx.Pipe()
        self.proc = ctx.Process(target=_serve, args=(child, games, hi - lo, seed + lo, env_kw),
                                name=f"rugsd-env-{index}", daemon=True)
        self.proc.start()
        child.close()

    def send(self, cmd: str, arg: Any = None) -> None:
        try:
            self.conn.send((cmd, arg))
        except (BrokenPipeError, OSError) as err:
            raise WorkerError(f"env worker {self.index} stopped ({err})") from None

    def recv(self, timeout: float | None = None) -> Any:
        try:
            if timeout is not None and not self.conn.poll(timeout):
                raise WorkerError(f"env worker {self.index} did not answer in {timeout:g} s")
            status, out = self.conn.recv()
        except (EOFError, OSError) as err:
            code = self.proc.exitcode
            raise WorkerError(f"env worker {self.index} stopped (exit code {code}, {err!r})") from None
        if status != "ok":
            raise WorkerError(f"env worker {self.index}: {out}")
        return out

    def call(self, cmd: str, arg: Any = None) -> Any:
        self.send(cmd, arg)
        return self.recv()


def _gather(workers: list[_Worker]) -> list[Any]:
    """Every worker's answer to the command just sent; the first error is raised only
    once all have answered, so no stale answer is left to be read as the next one."""
    answers, error = [], None
    for w in workers:
        try:
            answers.append(w.recv())
        except WorkerError as err:
            error = error or err
    if error is not None:
        raise error
    return answers


def split(n_envs: int, processes: int) -> list[tuple[int, int]]:
    """Contiguous parts ``[(lo, hi), ...]`` of ``n_envs`` slots, as even as they go."""
    processes = max(1, min(processes, n_envs))
    base, extra = divmod(n_envs, processes)
    parts, lo = [], 0
    for k in range(processes):
        hi = lo + base + (1 if k < extra else 0)
        parts.append((lo, hi))
        lo = hi
    return parts


class ProcVecEnv(SlotMasks, VecEnv):
    """``RugsVecEnv``'s N slots, split across ``processes`` processes (this one included)."""

    def __init__(self, games: Sequence[GameSpec], n_envs: int, processes: int, *,
                 seed: int = 0, **env_kw) -> None:
        """``env_kw`` as ``RugsEnv``; slot ``i`` is reset with seed ``seed + i``."""
        if n_envs < 1:
            raise ValueError("n_envs must be at least 1")
        games = list(games)
        self.parts = split(n_envs, processes)
        lo, hi = self.parts[0]
        self.local = RugsVecEnv(games, hi - lo, seed=seed, **env_kw)
        ctx = mp.get_context("forkserver")
        self.workers: list[_Worker] = []
        try:
            for k, (lo, hi) in enumerate(self.parts[1:], start=1):
                self.workers.append(_Worker(ctx, k, games, lo, hi, seed, env_kw))
            for w in self.workers:
                w.recv(_START_TIMEOUT_S)
        except BaseException:
            self.close()
            raise
        super().__init__(n_envs, self.local.observation_space, self.local.action_space)
        self._actions: np.ndarray | None = None
        self._masks = np.ones((n_envs, self.action_space.n), dtype=bool)
        self._closed = False

    # -- stepping -------------------------------------------------------------------------

    def _all(self, cmd: str, args: list[Any]) -> list[Any]:
        """Every part's answer to ``cmd`` (``args[k]`` for part k), in slot order: the
        workers are sent theirs first, so they work while this process does its own."""
        for w, arg in zip(self.workers, args[1:], strict=True):
            w.send(cmd, arg)
        try:
            local = _answer(self.local, cmd, args[0])
        except BaseException:
            with contextlib.suppress(WorkerError):
                _gather(self.workers)  # their answers must not be read as the next ones
            raise
        return [local, *_gather(self.workers)]

    def reset(self) -> np.ndarray:
        answers = self._all("reset", [None] * len(self.parts))
        self.reset_infos = [info for _, infos, _ in answers for info in infos]
        self._masks = np.concatenate([masks for _, _, masks in answers])
        return np.concatenate([obs for obs, _, _ in answers])

    def step_async(self, actions: np.ndarray) -> None:
        self._actions = np.asarray(actions)

    def step_wait(self):
        actions = self._actions
        answers = self._all("step", [actions[lo:hi] for lo, hi in self.parts])
        obs, rewards, dones, infos, masks = zip(*answers, strict=True)
        self._masks = np.concatenate(masks)
        return (np.concatenate(obs), np.concatenate(rewards), np.concatenate(dones),
                [info for part in infos for info in part])

    def seed(self, seed: int | None = None) -> list[int | None]:
        """Slot ``i`` is reset with ``seed + i`` at the next reset (as ``RugsVecEnv``)."""
        args = [None if seed is None else seed + lo for lo, _ in self.parts]
        return [s for part in self._all("seed", args) for s in part]

    # -- per-slot access (SB3's VecEnv interface) -----------------------------------------

    def _route(self, indices) -> list[tuple[Any, list[int]]]:
        """(owner, its own indices) for the slots ``indices`` names, in that order."""
        owners: list[tuple[Any, list[int]]] = []
        for i in self._get_indices(indices):
            for k, (lo, hi) in enumerate(self.parts):
                if lo <= i < hi:
                    owner = self.local if k == 0 else self.workers[k - 1]
                    if owners and owners[-1][0] is owner:
                        owners[-1][1].append(i - lo)
                    else:
                        owners.append((owner, [i - lo]))
                    break
        return owners

    def _ask(self, owner: RugsVecEnv | _Worker, cmd: str, arg: Any) -> Any:
        return _answer(owner, cmd, arg) if owner is self.local else owner.call(cmd, arg)

    def get_attr(self, attr_name: str, indices=None) -> list[Any]:
        return [v for owner, idx in self._route(indices)
                for v in self._ask(owner, "get_attr", (attr_name, idx))]

    def set_attr(self, attr_name: str, value: Any, indices=None) -> None:
        for owner, idx in self._route(indices):
            self._ask(owner, "set_attr", (attr_name, value, idx))

    def env_method(self, method_name: str, *method_args, indices=None, **method_kwargs):
        asked = self.masks_asked(method_name, method_args, method_kwargs, indices)
        if asked is not None:
            return asked
        return [v for owner, idx in self._route(indices)
                for v in self._ask(owner, "env_method",
                                   (method_name, method_args, method_kwargs, idx))]

    def env_is_wrapped(self, wrapper_class, indices=None) -> list[bool]:
        return [False] * len(list(self._get_indices(indices)))  # slots are bare RugsEnv

    def close(self) -> None:
        """Stop the workers (then the local part); safe to call twice."""
        if getattr(self, "_closed", False):
            return
        self._closed = True
        for w in getattr(self, "workers", []):
            try:
                w.send("close")
                w.recv(10.0)
            except WorkerError:
                pass
            w.proc.join(5.0)
            if w.proc.is_alive():
                w.proc.kill()
                w.proc.join(5.0)
            w.conn.close()
        local = getattr(self, "local", None)
        if local is not None:
            local.close()
