"""An exact Python port of David Bau's ``seedrandom`` (npm ``seedrandom`` 3.x default export).

Rugs.fun derives every game's prices from ``seedrandom(serverSeed + "-" + gameId)``, so the
simulator and the verifier need the same stream of doubles bit for bit. The JavaScript:

1. ``mixkey``: folds the seed string into a key of at most 256 bytes. It walks the UTF-16
   code units of the string (``charCodeAt``), ``smear ^= key[j & 255] * 19`` (an unset slot
   counts as 0, because ``undefined * 19`` is NaN and ``x ^ NaN == x`` in JS) and
   ``key[j & 255] = (smear + code) & 255``.
2. ``ARC4``: the standard RC4 key schedule over that key (an empty key is ``[0]``), then
   256 output bytes are thrown away (RC4-drop[256]).
3. ``prng()``: a double in [0, 1) with all 52 mantissa bits random: 6 bytes make a 48-bit
   numerator, more bytes are shifted in until it reaches 2**52, the surplus low bits are
   truncated (not rounded) to 53 significant bits, and the result is scaled by a power of two.

The hot loop is hand-unrolled: the common case (first byte >= 16) reads exactly 7 bytes,
builds the 53-bit integer directly and masks the truncated bits of the last byte with a
table, which is what the JS ``while`` loops compute. The rare case (first byte < 16, 1/16 of
draws) replays the JS loops literally with Python integers.
"""

from __future__ import annotations

import math

_TWO_M24 = 2.0**-24
_TWO_M56 = 2.0**-56
_TWO_52 = 1 << 52
_TWO_53 = 1 << 53

# Low bits of the 7th byte that the JS "halve until < 2**53" loop truncates, indexed by the
# first byte: 16..31 drops none, 32..63 one bit, 64..127 two, 128..255 three (see _fill).
_LAST_MASK: tuple[int, ...] = tuple(
    0xFF if b < 32 else 0xFE if b < 64 else 0xFC if b < 128 else 0xF8 for b in range(256)
)


def mixkey(seed: str) -> list[int]:
    """Fold ``seed`` into an RC4 key exactly like seedrandom's ``mixkey`` (UTF-16 units)."""
    data = seed.encode("utf-16-le", "surrogatepass")
    key: list[int] = []
    smear = 0
    for j in range(0, len(data), 2):
        unit = data[j] | (data[j + 1] << 8)
        idx = (j >> 1) & 255
        if idx < len(key):
            smear ^= key[idx] * 19
            key[idx] = (smear + unit) & 255
        else:
            # First visit of this slot: JS reads ``undefined``, which contributes nothing.
            key.append((smear + unit) & 255)
    return key


def _fill(s: list[int], i: int, j: int, n: int) -> tuple[list[float], int, int]:
    """Draw ``n`` seedrandom doubles from the ARC4 state ``(s, i, j)``; return them and i, j.

    Derivation of the fast path: JS starts with ``n = g(6)`` (< 2**48) and always shifts in
    one more byte, giving the 56-bit integer V of bytes b0..b6. If b0 >= 16 then
    ``n = g(6) * 256 >= 2**52`` and the first loop stops; the second loop halves k times
    until below 2**53 (k = 0, 1, 2, 3 for b0 in 16..31, 32..63, 64..127, 128..255),
    truncating x = b6. The result is ``(V >> k) / 2**(56 - k) == (V with its k low bits
    cleared) / 2**56``; the cleared bits all lie in b6, hence ``_LAST_MASK``. At most 53
    significant bits remain, so the two float products and their sum are exact.
    """
    out: list[float] = []
    append = out.append
    mask_tab = _LAST_MASK
    scale = _TWO_M56
    hi_scale = _TWO_M24
    for _ in range(n):
        # Seven unrolled ARC4 steps (the JS ``arc4.g(6)`` followed by ``arc4.g(1)``).
        i = (i + 1) & 255
        t = s[i]
        j = (j + t) & 255
        u = s[j]
        s[i] = u
        s[j] = t
        b0 = s[(t + u) & 255]
        i = (i + 1) & 255
        t = s[i]
        j = (j + t) & 255
        u = s[j]
        s[i] = u
        s[j] = t
        b1 = s[(t + u) & 255]
        i = (i + 1) & 255
        t = s[i]
        j = (j + t) & 255
        u = s[j]
        s[i] = u
        s[j] = t
        b2 = s[(t + u) & 255]
        i = (i + 1) & 255
        t = s[i]
        j = (j + t) & 255
        u = s[j]
        s[i] = u
        s[j] = t
        b3 = s[(t + u) & 255]
        i = (i + 1) & 255
        t = s[i]
        j = (j + t) & 255
        u = s[j]
        s[i] = u
        s[j] = t
        b4 = s[(t + u) & 255]
        i = (i + 1) & 255
        t = s[i]
        j = (j + t) & 255
        u = s[j]
        s[i] = u
        s[j] = t
        b5 = s[(t + u) & 255]
        i = (i + 1) & 255
        t = s[i]
        j = (j + t) & 255
        u = s[j]
        s[i] = u
        s[j] = t
        b6 = s[(t + u) & 255]
        if b0 >= 16:
            # Two exact float parts (24 + 32 bits) are cheaper than one 56-bit int.
            append(
                (b0 << 16 | b1 << 8 | b2) * hi_scale
                + (b3 << 24 | b4 << 16 | b5 << 8 | (b6 & mask_tab[b0])) * scale
            )
            continue
        # Rare path: replay the JS loops literally (more bytes are needed).
        num = b0 << 48 | b1 << 40 | b2 << 32 | b3 << 24 | b4 << 16 | b5 << 8  # g(6) * 256
        exp = 56
        x = b6
        while num < _TWO_52:
            num = (num + x) << 8
            exp += 8
            i = (i + 1) & 255
            t = s[i]
            j = (j + t) & 255
            u = s[j]
            s[i] = u
            s[j] = t
            x = s[(t + u) & 255]
        while num >= _TWO_53:
            num >>= 1  # exact: num is a multiple of 256 and is halved at most 7 times
            x >>= 1
            exp -= 1
        append(math.ldexp(float(num + x), -exp))
    return out, i, j


class SeedRandom:
    """A seeded generator equal to JS ``seedrandom(seed)``: call it for the next double.

    ``rng()`` / ``rng.random()`` give one double, ``rng.doubles(n)`` the next ``n`` at once
    (the same values as ``n`` calls, much faster). ``g``, ``int32`` and ``quick`` mirror
    ``arc4.g``, ``prng.int32`` and ``prng.quick``.
    """

    __slots__ = ("_i", "_j", "_s")

    def __init__(self, seed: str) -> None:
        """Key the generator with ``seed`` (a str; JS's flatten of a string is itself)."""
        key = mixkey(seed) or [0]  # the empty key is treated as [0]
        keylen = len(key)
        s = list(range(256))
        j = 0
        for i in range(256):
            t = s[i]
            j = (j + key[i % keylen] + t) & 255
            s[i] = s[j]
            s[j] = t
        self._s = s
        self._i = 0
        self._j = 0
        self.g(256)  # RC4-drop[256], as the JS constructor does with ``(me.g = ...)(width)``

    def g(self, count: int) -> int:
        """Return the next ``count`` ARC4 output bytes as one big-endian integer."""
        s = self._s
        i = self._i
        j = self._j
        r = 0
        for _ in range(count):
            i = (i + 1) & 255
            t = s[i]
            j = (j + t) & 255
            u = s[j]
            s[i] = u
            s[j] = t
            r = (r << 8) | s[(t + u) & 255]
        self._i = i
        self._j = j
        return r

    def doubles(self, n: int) -> list[float]:
        """Return the next ``n`` doubles of the stream (as ``n`` calls would)."""
        out, self._i, self._j = _fill(self._s, self._i, self._j, n)
        return out

    def __call__(self) -> float:
        """Return the next double in [0, 1), like calling the JS prng."""
        out, self._i, self._j = _fill(self._s, self._i, self._j, 1)
        return out[0]

    random = __call__

    def int32(self) -> int:
        """JS ``prng.int32()``: 4 bytes as a signed 32-bit integer."""
        v = self.g(4)
        return v - (1 << 32) if v >= 1 << 31 else v

    def quick(self) -> float:
        """JS ``prng.quick()``: 4 bytes divided by 2**32 (32 bits of randomness)."""
        return self.g(4) / 4294967296.0


def seedrandom(seed: str) -> SeedRandom:
    """Mirror of the JS default export: ``seedrandom(seed)`` returns a callable generator."""
    return SeedRandom(seed)
