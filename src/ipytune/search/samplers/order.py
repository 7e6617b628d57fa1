"""A seeded permutation of ``range(size)`` computed a block at a time: the grid's visiting order.

``numpy.random.permutation(size)`` needs an array of the grid's size (8 bytes a point: a
10^12-point grid is 7 TiB); :class:`SeededOrder` needs four 64-bit keys and one block
of ``BLOCK`` ids, whatever the size.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np
from numpy.typing import NDArray

_M64 = (1 << 64) - 1
_MUL1, _MUL2 = 0xBF58476D1CE4E5B9, 0x94D049BB133111EB  # splitmix64's finaliser
_VECTOR_MAX = 1 << 62  # up to here every step fits numpy's uint64, so blocks are computed in numpy


class SeededOrder:
    """A permutation of ``range(size)`` fixed by ``seed``, in O(1) memory and O(1) time per element.

    A Feistel network on ``rows × cols`` (``rows = ceil(sqrt(size))``, ``rows * cols >= size``)
    with modular addition, which is a bijection whatever its round function (a keyed 64-bit
    mix); an element that lands past ``size`` is encrypted again (cycle-walking), which stays
    in ``range(size)`` and happens for fewer than ``rows`` of the ``rows * cols`` elements.
    Read in order (as the grid reads it), ``BLOCK`` elements are computed at once, in numpy;
    :meth:`at` computes one, in Python, and gives the same values.
    """

    ROUNDS = 4  # even: the rounds alternate the two halves' sizes and must end where they began
    BLOCK = 512

    def __init__(self, size: int, seed: int | None) -> None:
        if size < 1:
            raise ValueError(f"SeededOrder: size must be at least 1, got {size}")
        self.size = size
        self._rows = math.isqrt(size - 1) + 1
        self._cols = -(-size // self._rows)
        self._keys = [int(k) for k in np.random.SeedSequence(seed).generate_state(self.ROUNDS, dtype=np.uint64)]
        self._start = -1  # the cached block's first index
        self._block: list[int] = []

    def __len__(self) -> int:
        return self.size

    def __getitem__(self, index: int) -> int:
        offset = index - self._start
        if 0 <= offset < len(self._block):
            return self._block[offset]
        if not 0 <= index < self.size:
            raise IndexError(f"SeededOrder index {index} out of range({self.size})")
        if self.size > _VECTOR_MAX:
            return self.at(index)
        self._start = index - index % self.BLOCK
        self._block = self._vector(self._start, min(self._start + self.BLOCK, self.size))
        return self._block[index - self._start]

    def __iter__(self) -> Iterator[int]:
        return (self[i] for i in range(self.size))

    def at(self, index: int) -> int:
        """One element, computed alone (any size)."""
        value = self._encrypt(index)
        while value >= self.size:
            value = self._encrypt(value)
        return value

    def _encrypt(self, value: int) -> int:
        rows, cols = self._rows, self._cols
        left, right = divmod(value, cols)  # left < rows, right < cols
        for key in self._keys:
            left, right = right, (left + _hash(key, right, rows)) % rows
            rows, cols = cols, rows
        return left * cols + right

    def _vector(self, start: int, stop: int) -> list[int]:
        """Elements ``start`` to ``stop`` in numpy: the same rounds, in uint64 (sizes up to 2^62)."""
        values = self._encrypt_all(np.arange(start, stop, dtype=np.uint64))
        past = values >= self.size
        while past.any():
            values[past] = self._encrypt_all(values[past])
            past = values >= self.size
        block: list[int] = values.tolist()
        return block

    def _encrypt_all(self, values: NDArray[np.uint64]) -> NDArray[np.uint64]:
        rows, cols = np.uint64(self._rows), np.uint64(self._cols)
        left, right = values // cols, values % cols
        with np.errstate(over="ignore"):
            for key in self._keys:
                z = right ^ np.uint64(key)
                z = (z ^ (z >> np.uint64(30))) * np.uint64(_MUL1)
                z = (z ^ (z >> np.uint64(27))) * np.uint64(_MUL2)
                z ^= z >> np.uint64(31)
                left, right = right, (left + z % rows) % rows
                rows, cols = cols, rows
        encrypted: NDArray[np.uint64] = left * cols + right
        return encrypted


def _hash(key: int, value: int, modulus: int) -> int:
    """A keyed hash of ``value`` into ``range(modulus)`` (splitmix64's finaliser; wider for huge moduli)."""
    z = key
    while True:
        z = _mix(z ^ (value & _M64))
        value >>= 64
        if not value:
            break
    out, bits = z, 64
    while bits < modulus.bit_length() + 32:  # moduli past 2^32: more bits, so that the remainder stays even
        z = _mix((z + 0x9E3779B97F4A7C15) & _M64)
        out, bits = (out << 64) | z, bits + 64
    return out % modulus


def _mix(z: int) -> int:
    z = ((z ^ (z >> 30)) * _MUL1) & _M64
    z = ((z ^ (z >> 27)) * _MUL2) & _M64
    return z ^ (z >> 31)
