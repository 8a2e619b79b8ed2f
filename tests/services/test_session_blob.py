"""Sessions that travel: model.fingerprint, stream.to_bytes() and model.stream(blob)."""
import os
import pickle
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import lnfast
from variants import make_stack

HEADER_BYTES = 28  # magic, version, fingerprint, count, checksum
# Of formula_lstm(), scheme 2 (stored values, int8 activations counted).
GOLDEN_FINGERPRINT = {("fp32", "fp32"): "980df9e114a38b45", ("bf16", "fp32"): "f807617b99478adb",
                      ("int8", "fp32"): "4b9cd810c3d23a50", ("int8", "int8"): "c4f93703f10cff37"}


def formula_lstm(I=5, H=7, scale=1.0):
    """Weights from a formula, not a random generator, so the golden value
    below cannot move with a NumPy release."""
    w_ih = (0.3 * np.sin(0.7 * np.arange(4 * H * I)) * scale).astype(np.float32).reshape(4 * H, I)
    w_hh = (0.2 * np.cos(1.3 * np.arange(4 * H * H))).astype(np.float32).reshape(4 * H, H)
    return lnfast.LSTM(w_ih, w_hh, norm="separate", ln_x=lnfast.LayerNorm(), ln_h=lnfast.LayerNorm())


@pytest.fixture
def model():
    rng = np.random.default_rng(12)
    return lnfast.Model(make_stack("lstm_separate_state", (13, 37), rng)
                        + make_stack("gru_per_gate", (37, 17), rng))


def inputs(T, I=13, seed=1):
    return np.random.default_rng(seed).standard_normal((T, I)).astype(np.float32)


def test_fingerprint_is_pinned_and_hex():
    # A changed value means blobs saved by earlier releases stop resuming:
    # change the fingerprint scheme number in the C++ core deliberately if so.
    fp = lnfast.Model(formula_lstm()).fingerprint
    assert fp == lnfast.Model(formula_lstm()).fingerprint
    assert len(fp) == 16 and int(fp, 16) >= 0
    assert fp == GOLDEN_FINGERPRINT["fp32", "fp32"]


@pytest.mark.parametrize("isa", lnfast.supported_isas())
@pytest.mark.parametrize("weights,activations", sorted(GOLDEN_FINGERPRINT))
def test_fingerprint_of_every_format_is_pinned_on_every_isa(isa, weights, activations):
    # Each ISA lays the panels out its own way (bf16 pairs, int8 quads, the
    # u8 offset of vpdpbusd): the fingerprint hashes the stored values only.
    model = lnfast.Model(formula_lstm(), isa=isa, weights=weights, activations=activations)
    assert model.fingerprint == GOLDEN_FINGERPRINT[weights, activations]


def test_fingerprint_tells_weights_structure_and_format_apart():
    base = lnfast.Model(formula_lstm())
    others = [
        lnfast.Model(formula_lstm(scale=1.0 + 2 ** -20)),                 # one ulp-ish change
        lnfast.Model(formula_lstm(), weights="bf16"),
        lnfast.Model(formula_lstm(), weights="int8"),
        lnfast.Model([formula_lstm(), formula_lstm(I=7)]),
        lnfast.Model(lnfast.LSTM(formula_lstm().w_ih, formula_lstm().w_hh, norm="separate",
                                 ln_x=lnfast.LayerNorm(eps=1e-6), ln_h=lnfast.LayerNorm())),
        lnfast.Model(lnfast.LSTM(formula_lstm().w_ih, formula_lstm().w_hh, norm="separate",
                                 ln_x=lnfast.LayerNorm(), ln_h=lnfast.LayerNorm(), zoneout=0.1)),
    ]
    prints = [base.fingerprint] + [m.fingerprint for m in others]
    assert len(set(prints)) == len(prints)


def test_fingerprint_tells_gru_reset_and_update_bias_apart():
    rng = np.random.default_rng(4)
    w_ih, w_hh = (rng.standard_normal((18, n)).astype(np.float32) * 0.3 for n in (5, 6))
    variants = [{}, {"reset": "candidate"}, {"update_bias": -1.0},
                {"reset": "candidate", "update_bias": -1.0},
                {"reset": "candidate", "norm": "joint", "ln": lnfast.LayerNorm()}]
    prints = [lnfast.Model(lnfast.GRU(w_ih, w_hh, **options)).fingerprint for options in variants]
    assert len(set(prints)) == len(prints)


def test_fingerprint_is_the_same_on_every_isa_and_after_pickling():
    layers = formula_lstm()
    prints = {lnfast.Model(layers, isa=isa).fingerprint for isa in lnfast.supported_isas()}
    prints.add(pickle.loads(pickle.dumps(lnfast.Model(layers))).fingerprint)
    assert len(prints) == 1


def test_blob_is_four_bytes_per_state_float_plus_header(model):
    stream = model.stream()
    stream.run(inputs(20))
    blob = stream.to_bytes()
    assert isinstance(blob, bytes)
    assert len(blob) == HEADER_BYTES + 4 * stream.flat_state().size


@pytest.mark.parametrize("via", ["bytes", "bytearray", "memoryview", "state list", "restore"])
def test_resumed_stream_continues_bit_identically(model, via):
    X = inputs(80)
    stream = model.stream()
    stream.run(X[:30])
    blob = stream.to_bytes()
    if via == "restore":
        resumed = model.stream()
        resumed.step(X[0])
        resumed.restore(blob)
    else:
        resumed = model.stream({"bytes": blob, "bytearray": bytearray(blob),
                                "memoryview": memoryview(blob),
                                "state list": stream.state}[via])
    assert np.array_equal(resumed.run(X[30:]), stream.run(X[30:]))


def other_model_blobs(model):
    rng = np.random.default_rng(99)
    same_shapes = lnfast.Model(make_stack("lstm_separate_state", (13, 37), rng)
                               + make_stack("gru_per_gate", (37, 17), rng))
    as_bf16 = lnfast.Model(model.layers, weights="bf16")
    return {"other weights": same_shapes.stream().to_bytes(),
            "bf16 of the same layers": as_bf16.stream().to_bytes()}


def expect_refused(model, blob, match):
    """The blob is refused by model.stream and by restore, which leaves the state alone."""
    with pytest.raises(ValueError, match=match):
        model.stream(blob)
    stream = model.stream()
    stream.run(inputs(5))
    before = stream.flat_state()
    with pytest.raises(ValueError, match=match):
        stream.restore(blob)
    assert np.array_equal(stream.flat_state(), before)


def test_blob_of_another_model_is_refused(model):
    for blob in other_model_blobs(model).values():
        expect_refused(model, blob, "belongs to another model: it was saved from model "
                                    "[0-9a-f]{16}, this model is " + model.fingerprint)


def test_truncated_or_padded_blob_is_refused(model):
    stream = model.stream()
    stream.run(inputs(7))
    blob = stream.to_bytes()
    for size in [0, 1, 3, 4, 7, 8, 20, 27, 28, len(blob) // 2, len(blob) - 1]:
        expect_refused(model, blob[:size], "stream blob is truncated")
    expect_refused(model, blob + b"\0", "stream blob has trailing bytes")


def test_any_flipped_bit_is_refused(model):
    stream = model.stream()
    stream.run(inputs(7))
    blob = bytearray(stream.to_bytes())
    for position in range(8, len(blob)):  # past magic and version, which have their own messages
        damaged = bytearray(blob)
        damaged[position] ^= 1 << (position % 8)
        if position in range(16, 20):   # the count: the length no longer matches it
            expect_refused(model, bytes(damaged), "stream blob is truncated|trailing bytes")
        else:
            expect_refused(model, bytes(damaged), "stream blob is corrupted")


def test_foreign_bytes_and_newer_versions_are_refused(model):
    blob = model.stream().to_bytes()
    expect_refused(model, b"PK\x03\x04" + blob[4:], "is not an lnfast stream state")
    newer = blob[:4] + (2).to_bytes(4, "little") + blob[8:]
    expect_refused(model, newer, "format version 2, newer than this lnfast reads \\(1\\)")
    expect_refused(model, blob[:4] + bytes(4) + blob[8:], "unknown format version 0")


@pytest.mark.parametrize("bad", ["a string", 3, np.zeros(4, np.float32), {"h": 1}])
def test_wrong_types_are_refused(model, bad):
    with pytest.raises(TypeError, match="state must be None, bytes from stream.to_bytes"):
        model.stream(bad)
    with pytest.raises(TypeError, match="blob must be bytes from stream.to_bytes\\(\\), got "
                                        + type(bad).__name__):
        model.stream().restore(bad)


def test_pickle_docstring_says_it_carries_the_model():
    doc = lnfast.Stream.__doc__
    assert "Pickling a stream carries its whole model" in doc and "to_bytes" in doc


CHILD = textwrap.dedent("""
    import sys
    import numpy as np
    import lnfast
    checkpoint, blob_path, x_path, out_path, weights = sys.argv[1:]
    model = lnfast.load(checkpoint, weights=weights)
    with open(blob_path, "rb") as f:
        stream = model.stream(f.read())
    np.save(out_path, stream.run(np.load(x_path)))
    print(model.fingerprint)
""")


@pytest.mark.parametrize("weights", ["fp32", "bf16"])
def test_a_second_process_continues_from_the_blob(tmp_path, weights):
    torch = pytest.importorskip("torch")
    torch.manual_seed(5)
    net = torch.nn.LSTM(11, 24, num_layers=2)
    checkpoint = tmp_path / "lstm.pt"
    torch.save(net.state_dict(), checkpoint)
    model = lnfast.load(str(checkpoint), weights=weights)
    X = inputs(60, I=11)
    stream = model.stream()
    stream.run(X[:25])
    (tmp_path / "blob").write_bytes(stream.to_bytes())
    np.save(tmp_path / "x.npy", X[25:])
    # The lnfast under test, wherever it was imported from (installed or in place).
    env = dict(os.environ, PYTHONPATH=os.path.dirname(os.path.dirname(lnfast.__file__)))
    child = subprocess.run(
        [sys.executable, "-c", CHILD, str(checkpoint), str(tmp_path / "blob"),
         str(tmp_path / "x.npy"), str(tmp_path / "out.npy"), weights],
        env=env, capture_output=True, text=True, timeout=120)
    assert child.returncode == 0, child.stderr
    assert child.stdout.strip() == model.fingerprint
    assert np.array_equal(np.load(tmp_path / "out.npy"), stream.run(X[25:]))
