"""An object whose __init__ never ran (made with __new__) raises, never crashes."""
import pytest

from child_process import run_child

SMALL_MODEL = ("m = lnfast.Model(make_cell('lstm_separate_state', 3, 4, "
               "np.random.default_rng(0)))\n")

CALLS = {
    "Stream.step": "lnfast.Stream.__new__(lnfast.Stream).step(np.zeros(3, np.float32))",
    "Stream.state": "lnfast.Stream.__new__(lnfast.Stream).state",
    "Stream.copy": "lnfast.Stream.__new__(lnfast.Stream).copy()",
    "core Stream.step": "_core.Stream.__new__(_core.Stream).step(np.zeros(3, np.float32))",
    "core Stream.run": "_core.Stream.__new__(_core.Stream).run(np.zeros((2, 3), np.float32))",
    "core Stream.flat_state": "_core.Stream.__new__(_core.Stream).flat_state()",
    "core Stream.to_bytes": "_core.Stream.__new__(_core.Stream).to_bytes()",
    "core Stream repr": "repr(_core.Stream.__new__(_core.Stream))",
    "core Model.input_size": "_core.Model.__new__(_core.Model).input_size",
    "core Model.step_many": "_core.Model.__new__(_core.Model).step_many([], np.zeros((0, 3)))",
    "core Model as a stream's": "_core.Stream(_core.Model.__new__(_core.Model))",
    "Model.stream": "lnfast.Model.__new__(lnfast.Model).stream()",
    "Model.input_size": "lnfast.Model.__new__(lnfast.Model).input_size",
    "LayerSpec.w_ih": "_core.LayerSpec.__new__(_core.LayerSpec).w_ih",
    "Norm.gamma": "_core.Norm.__new__(_core.Norm).gamma",
    "validate_layer": "_core.validate_layer(_core.LayerSpec.__new__(_core.LayerSpec), 'x')",
    "step_many of one": "m._core.step_many([_core.Stream.__new__(_core.Stream)], np.zeros((1, 3)))",
}


@pytest.mark.parametrize("call", CALLS.values(), ids=CALLS.keys())
def test_uninitialised_object_raises(call):
    out = run_child(SMALL_MODEL + f"""
try:
    {call}
except (TypeError, ValueError, RuntimeError, AttributeError) as e:
    print("raised", type(e).__name__, e)
else:
    print("returned")
""")
    assert out.startswith("raised"), out
