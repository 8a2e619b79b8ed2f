"""What the objects a pickle builds may cost, in memory and in CPU.

A pickle is a program, and a short one can ask for a lot:
 - memory: EMPTY_SET is one byte and builds a 216-byte set; a million of
   them turn a 1 MB file into 216 MB. Every opcode is charged an estimate
   of what it allocates against a budget proportional to the file size.
 - C recursion: hashing a tuple recurses in C with no depth check, so a
   tuple nested 300 000 deep (one byte per level) used as a dict key
   overflows the C stack and kills the interpreter. Tuples may nest at
   most MAX_TUPLE_NESTING deep.
 - quadratic hashing: int hashes are not randomised (k * (2**61 - 1) all
   hash to 0) and neither are float hashes, so a few thousand crafted keys
   make one dict take minutes; and hashing a tuple costs its size every
   time, so inserting one huge tuple key again and again is quadratic.
   Keys are checked and their hashing work charged before every insertion.
"""

from __future__ import annotations

from .limits import Budget
from .problem import FormatProblem

MAX_TUPLE_NESTING = 100
# Keys whose hash an attacker can choose freely: ints beyond the hash
# modulus and non-integral floats. Real checkpoints use small int keys.
MAX_COLLIDABLE_KEYS = 1000
_INJECTIVE_INT_HASH_LIMIT = 1 << 60
_EXACT_FLOAT_LIMIT = 2.0**53


class UnpickleLimits:
    """Budgets and checks shared by one pickle's unpickler and constructors."""

    def __init__(self, budget: Budget):
        self.budget = budget
        self._tuple_depth: dict[int, int] = {}
        self._collidable_keys = 0

    def charge(self, nbytes: int) -> None:
        self.budget.charge(nbytes)

    # --- tuples --------------------------------------------------------

    def new_tuple(self, items) -> tuple:
        """Build a tuple, refusing one nested deeper than MAX_TUPLE_NESTING."""
        result = tuple(items)
        self.charge(56 + 8 * len(result))
        depth = 1
        for item in result:
            if type(item) is tuple:
                depth = max(depth, self._tuple_depth.get(id(item), 1) + 1)
        if depth > MAX_TUPLE_NESTING:
            raise FormatProblem(f"tuples nested more than {MAX_TUPLE_NESTING} deep")
        if depth > 1:
            # Keyed by id: the tuple stays alive on the pickle's stack or
            # inside another object for as long as anything can refer to it.
            self._tuple_depth[id(result)] = depth
        return result

    # --- hashing -------------------------------------------------------

    def check_keys(self, keys) -> None:
        """Charge the hashing work of inserting `keys` into a dict or set."""
        for key in keys:
            self.charge(self._hash_cost(key))

    def _hash_cost(self, key) -> int:
        if type(key) is not tuple:
            return self._scalar_hash_cost(key)
        cost = 0
        pending = [key]
        while pending:  # depth is bounded by new_tuple, size by the budget
            for item in pending.pop():
                if type(item) is tuple:
                    pending.append(item)
                    cost += 8
                else:
                    cost += self._scalar_hash_cost(item)
        return cost

    def _scalar_hash_cost(self, key) -> int:
        kind = type(key)
        if kind is int and not -_INJECTIVE_INT_HASH_LIMIT < key < _INJECTIVE_INT_HASH_LIMIT:
            self._count_collidable()
        elif kind is float and not (key.is_integer() and abs(key) < _EXACT_FLOAT_LIMIT):
            self._count_collidable()
        elif kind is frozenset:
            return 8 * len(key)
        # str and bytes hashes are randomised and cached; everything else
        # the unpickler can build hashes by identity or by a fixed field.
        return 8

    def _count_collidable(self) -> None:
        self._collidable_keys += 1
        if self._collidable_keys > MAX_COLLIDABLE_KEYS:
            raise FormatProblem(
                f"more than {MAX_COLLIDABLE_KEYS} dict keys or set items are huge integers "
                "or fractional floats, whose hashes can be made to collide"
            )
