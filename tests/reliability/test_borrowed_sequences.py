"""A sequence whose __getitem__ builds a new item each time: every item
stays alive for as long as the call uses it."""
import numpy as np

from child_process import run_child


def test_state_from_a_building_sequence():
    out = run_child("""
rng = np.random.default_rng(0)
m = lnfast.Model([make_cell('lstm_separate_state', 3, 4, rng), make_cell('gru_per_gate', 4, 4, rng)])
s = m.stream()
s.run(rng.standard_normal((5, 3)).astype(np.float32))
want = s.state
class Building:
    def __len__(self): return len(want)
    def __getitem__(self, k): return {name: v.copy() for name, v in want[k].items()}
t = m.stream()
t.state = Building()
print(all(np.array_equal(a[n], b[n]) for a, b in zip(t.state, want) for n in a))
""")
    assert out.strip() == "True"


def test_step_many_over_a_building_sequence():
    # Above the GIL-release threshold, so the streams are used with the GIL
    # released; each built stream must live until the call returns.
    out = run_child("""
rng = np.random.default_rng(0)
m = lnfast.Model(make_cell('lstm_separate_state', 64, 128, rng))
class Building:
    def __len__(self): return 3
    def __getitem__(self, k):
        if k >= 3: raise IndexError(k)
        return m.stream()
X = rng.standard_normal((3, 64)).astype(np.float32)
got = m._core.step_many(Building(), X)
want = np.stack([m.stream().step(x) for x in X])
print(np.array_equal(got, want))
""")
    assert out.strip() == "True"
