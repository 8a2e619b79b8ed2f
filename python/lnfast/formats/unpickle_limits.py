"""What the objects a pickle builds may cost, in memory and in CPU.

A pickle is a program, and a short one can ask for a lot:
 - memory: EMPTY_SET is one byte and builds a 216-byte set; a million of
   them turn a 1 MB file into 216 MB. Every opcode is charged an estimate
   of what it allocates against a budget proportional to the file size.
 - C recursion: hashing a tuple recurses in C with no depth check, so a
   tuple nested 300 000 deep (one byte per level) used as a dict key
   overflows the C stack and kills the interpreter. Tuples may nest at
   most MAX_TUPLE_NESTING deep.
 - exponential hashing: tuples do not cache their hash, and one may hold
   another twice: t_i = (t_{i-1}, t_{i-1}) is two opcodes per level, and
   hashing t_40 visits 2**40 leaves. Each tuple's hashing work is worked
   out once, when it is built, from its items' (so a shared sub-tuple is
   counted in O(1)); a key is charged that work before it is inserted, and
   one whose work exceeds what is left of the budget is refused before
   anything hashes it.
 - quadratic hashing: no hash of an int, float or tuple is randomised, so
   keys can be chosen to share one hash (k * (2**61 - 1) for ints, or
   tuples of small ints, since each round of the tuple hash can be
   inverted), and filling one dict with n of them compares O(n^2) keys.
   Every insertion into a dict or set is checked against a table of the
   hashes that container already holds; more than MAX_COLLIDING_KEYS
   insertions that meet an equal hash are refused, and each is charged
   the comparisons it makes. str and bytes hashes are randomised per
   process, so their keys are not tracked.
"""

from __future__ import annotations

from .limits import Budget
from .problem import FormatProblem

MAX_TUPLE_NESTING = 100
MAX_COLLIDING_KEYS = 1000
_RANDOMISED_HASH = (str, bytes)
# A tuple's entry in the table of depths and hashing work; an entry of a
# container's hash table.
_TUPLE_ENTRY_BYTES = 120
_HASH_ENTRY_BYTES = 100
_HASH_STEP = 8


class UnpickleLimits:
    """Budgets and checks shared by one pickle's unpickler and constructors."""

    def __init__(self, budget: Budget):
        self.budget = budget
        # id -> (tuple, nesting depth, hashing work). The tuple is held so
        # that its id cannot be reused by another object while this lives.
        self._tuples: dict[int, tuple] = {}
        # id -> (dict or set, {hash: insertions with it}), held likewise.
        self._hash_tables: dict[int, tuple] = {}
        self._colliding_keys = 0

    def charge(self, nbytes: int) -> None:
        self.budget.charge(nbytes)

    # --- tuples --------------------------------------------------------

    def new_tuple(self, items) -> tuple:
        """Build a tuple, refusing one nested deeper than MAX_TUPLE_NESTING."""
        result = tuple(items)
        self.charge(56 + 8 * len(result) + _TUPLE_ENTRY_BYTES)
        depth, work = 1, _HASH_STEP
        for item in result:
            if type(item) is tuple:
                item_depth, item_work = self._tuple_cost(item)
                depth = max(depth, item_depth + 1)
                work += item_work
            else:
                work += self._scalar_hash_work(item)
        if depth > MAX_TUPLE_NESTING:
            raise FormatProblem(f"tuples nested more than {MAX_TUPLE_NESTING} deep")
        self._tuples[id(result)] = (result, depth, work)
        return result

    def _tuple_cost(self, item: tuple) -> tuple[int, int]:
        known = self._tuples.get(id(item))
        if known is None:
            # Built elsewhere (the empty tuple, say): work it out once, no
            # deeper than MAX_TUPLE_NESTING, and remember it like the rest.
            if len(item) and any(type(part) is tuple for part in item):
                raise FormatProblem("a nested tuple was built outside the unpickler's checks")
            work = _HASH_STEP + sum(self._scalar_hash_work(part) for part in item)
            known = self._tuples[id(item)] = (item, 1, work)
        return known[1], known[2]

    # --- hashing -------------------------------------------------------

    def check_keys(self, keys, container=None) -> None:
        """Charge the work of inserting `keys` into `container` (a dict or
        set that may hold keys already; None for a new one), and refuse keys
        whose hashing would be exponential or whose hashes collide."""
        table = self._hash_table(container)
        for key in keys:
            work = self._hash_work(key)
            if work > self.budget.remaining:
                raise FormatProblem(
                    f"hashing one dict key or set item would take about {work} steps (a tuple "
                    "built from shared tuples), more than the file's budget allows; "
                    "refusing to hash it"
                )
            self.charge(work)
            if isinstance(key, _RANDOMISED_HASH):
                continue
            value = hash(key)
            earlier = table.get(value, 0)
            if earlier:
                self._count_colliding_key()
                # The container compares the key with each earlier one.
                self.charge(earlier * work)
            else:
                self.charge(_HASH_ENTRY_BYTES)
            table[value] = earlier + 1

    def _hash_table(self, container) -> dict:
        if container is None:
            return {}
        known = self._hash_tables.get(id(container))
        if known is not None:
            return known[1]
        table: dict[int, int] = {}
        self._hash_tables[id(container)] = (container, table)
        for key in list(container):
            self.charge(self._hash_work(key))
            if not isinstance(key, _RANDOMISED_HASH):
                value = hash(key)
                table[value] = table.get(value, 0) + 1
                self.charge(_HASH_ENTRY_BYTES)
        return table

    def _hash_work(self, key) -> int:
        if type(key) is tuple:
            return self._tuple_cost(key)[1]
        return self._scalar_hash_work(key)

    @staticmethod
    def _scalar_hash_work(key) -> int:
        kind = type(key)
        if kind is int:
            # int hashes are not cached and cost a step per 30-bit digit.
            return _HASH_STEP + key.bit_length() // 4
        if kind is frozenset:
            return _HASH_STEP * (1 + len(key))
        # str and bytes cache their hashes; everything else the unpickler
        # can build hashes by identity or by a fixed-size field.
        return _HASH_STEP

    def _count_colliding_key(self) -> None:
        self._colliding_keys += 1
        if self._colliding_keys > MAX_COLLIDING_KEYS:
            raise FormatProblem(
                f"more than {MAX_COLLIDING_KEYS} dict keys or set items share their hash with an "
                "earlier key of the same container: hashes can be made to collide, and filling a "
                "container with such keys takes quadratic time"
            )
