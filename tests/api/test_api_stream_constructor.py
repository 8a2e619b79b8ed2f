"""lnfast.Stream(model) is model.stream(); anything else is a clear TypeError."""
import copy
import pickle

import numpy as np
import pytest

import lnfast


@pytest.fixture
def model():
    rng = np.random.default_rng(0)
    return lnfast.Model(lnfast.LSTM(rng.standard_normal((12, 5)) * 0.3,
                                    rng.standard_normal((12, 3)) * 0.3))


def test_stream_of_a_model_equals_model_stream(model):
    x = np.linspace(-1, 1, 5).astype(np.float32)
    direct, made = lnfast.Stream(model), model.stream()
    assert direct.model is model
    assert np.array_equal(direct.step(x), made.step(x))
    for twin in (direct.copy(), copy.deepcopy(direct), pickle.loads(pickle.dumps(direct))):
        assert np.array_equal(twin.step(x), made.copy().step(x))


@pytest.mark.parametrize("bad", [None, "model.pt", 3])
def test_anything_else_is_refused_by_name(bad):
    with pytest.raises(TypeError) as info:
        lnfast.Stream(bad)
    message = str(info.value)
    assert message.startswith("lnfast.Stream(model) takes an lnfast.Model")
    assert type(bad).__name__ in message
    assert "Invoked with" not in message  # no pybind11 overload dump


def test_the_compiled_model_is_refused_too(model):
    with pytest.raises(TypeError, match=r"got lnfast\._core\.Model"):
        lnfast.Stream(model._core)
    with pytest.raises(TypeError):
        lnfast.Stream(model._core, model)  # the old private two-argument form
