"""The shipped character language model: its files, its PyTorch module, its output."""

import math
import re
import sys
import zipfile

import pytest

torch = pytest.importorskip("torch")

try:
    import lnfast.charlm  # noqa: F401
except ImportError:  # running from a checkout without the package installed
    from paths import ROOT
    sys.path.insert(0, str(ROOT / "python"))

from lnfast.charlm import CHECKPOINT_PATH, CONFIG_PATH, load_config  # noqa: E402
from lnfast.charlm.torch_model import CharLM, load_shipped_model, sample_text  # noqa: E402
from lnfast.charlm.vocab import CharVocab, normalise_text  # noqa: E402

# The shipped run reached 1.280 nats/char (tools/train_charlm.py); margin for retrains.
MAX_VAL_LOSS_NATS = 1.40

# Frequent English words, to judge that a greedy sample is made of real words.
COMMON_WORDS = set("""
a all am an and are as at be but by come do for from good had has hath have he her
him his how i if in is it know let lord love make man may me more my no not now o
of on or our say see shall she sir so some that the thee them then there these they
thou thus thy to upon us was we well what when where which who why will with would
ye yet you your king queen go well speak heart life death day night god father son
""".split())


def expected_shapes(config):
    vocab, embed, hidden = len(config["vocab"]), config["embed_dim"], config["hidden_size"]
    shapes = {"embed.weight": (vocab, embed), "head.weight": (vocab, hidden), "head.bias": (vocab,)}
    for layer in range(config["num_layers"]):
        prefix = f"rnn.layers.{layer}.cell."
        shapes[prefix + "weight_ih"] = (4 * hidden, embed if layer == 0 else hidden)
        shapes[prefix + "weight_hh"] = (4 * hidden, hidden)
        for norm, units in (("layernorm_i", 4 * hidden), ("layernorm_h", 4 * hidden),
                            ("layernorm_c", hidden)):
            shapes[prefix + norm + ".weight"] = (units,)
            shapes[prefix + norm + ".bias"] = (units,)
    return shapes


@pytest.fixture(scope="module")
def shipped():
    torch.manual_seed(0)
    return load_shipped_model()


def test_fresh_model_has_exactly_the_fastrnns_keys():
    config = {"vocab": "abcde", "embed_dim": 3, "hidden_size": 4, "num_layers": 2, "eps": 1e-5}
    state_dict = CharLM.from_config(config).state_dict()
    assert {key: tuple(value.shape) for key, value in state_dict.items()} == expected_shapes(config)


def test_shipped_files_exist_and_agree():
    config = load_config()
    assert CHECKPOINT_PATH.stat().st_size <= 3 * 1024 * 1024
    # The regular torch.save zip archive (docs/checkpoints.md#files), which lnfast reads without torch.
    assert zipfile.is_zipfile(CHECKPOINT_PATH)
    state_dict = torch.load(CHECKPOINT_PATH, map_location="cpu", weights_only=True)
    shapes = {key: tuple(value.shape) for key, value in state_dict.items()}
    assert shapes == expected_shapes(config)
    assert all(value.dtype == torch.float32 for value in state_dict.values())
    assert len(set(config["vocab"])) == len(config["vocab"]) == state_dict["head.bias"].shape[0]
    assert (config["layout"], config["gate_order"], config["cell_norm"], config["eps"]) == (
        "fastrnns", "ifgo", "state", 1e-5)
    assert CONFIG_PATH.exists()


def test_recorded_losses_are_consistent_and_good():
    config = load_config()
    assert config["val_loss_nats"] < MAX_VAL_LOSS_NATS
    for split in ("train", "val"):
        nats, bits = config[f"{split}_loss_nats"], config[f"{split}_loss_bits"]
        assert bits == pytest.approx(nats / math.log(2), abs=1e-3)


def test_shipped_state_dict_loads_strictly(shipped):
    model, config = shipped
    fresh = CharLM.from_config(config)
    state_dict = torch.load(CHECKPOINT_PATH, map_location="cpu", weights_only=True)
    result = fresh.load_state_dict(state_dict, strict=True)
    assert not result.missing_keys and not result.unexpected_keys
    assert torch.equal(fresh.head.weight, model.head.weight)


@pytest.mark.parametrize("batch", [1, 3])
def test_stepping_matches_the_sequence_forward(shipped, batch):
    model, _ = shipped
    generator = torch.Generator().manual_seed(7)
    tokens = torch.randint(0, model.vocab_size, (batch, 50), generator=generator)
    with torch.no_grad():
        sequence_logits, sequence_state = model(tokens)
        state = None
        for time_step in range(tokens.shape[1]):
            step_logits, state = model.step(tokens[:, time_step], state)
            # Logits reach ~15, where float32 rounding of the batched vs per-step
            # input matmul alone is a few 1e-6, hence the relative part.
            torch.testing.assert_close(step_logits, sequence_logits[:, time_step], atol=1e-5, rtol=1e-5)
    for stepped, whole in zip(state, sequence_state):
        torch.testing.assert_close(stepped, whole, atol=1e-5, rtol=1e-5)


def test_step_takes_an_int_ids_or_embeddings(shipped):
    model, _ = shipped
    with torch.no_grad():
        from_int, _ = model.step(5)
        from_ids, _ = model.step(torch.tensor([5]))
        from_embedding, (hidden, cell) = model.step(model.embed(torch.tensor([5])))
    assert torch.equal(from_int, from_ids)
    assert torch.equal(from_ids, from_embedding)
    assert hidden.shape == cell.shape == (model.num_layers, 1, model.hidden_size)


def test_cell_follows_the_spec_formula():
    """One cell step written out from docs/math.md#lstm (separate norms, "state" cell norm)."""
    torch.manual_seed(3)
    cell = CharLM(vocab_size=4, embed_dim=5, hidden_size=6, num_layers=1).rnn.layers[0].cell
    with torch.no_grad():
        for parameter in cell.parameters():
            parameter.normal_()
        x, h, c = torch.randn(2, 5), torch.randn(2, 6), torch.randn(2, 6)

        def layer_norm(z, norm):
            mean = z.mean(-1, keepdim=True)
            variance = ((z - mean) ** 2).mean(-1, keepdim=True)
            return norm.weight * (z - mean) / torch.sqrt(variance + 1e-5) + norm.bias

        gates = layer_norm(x @ cell.weight_ih.T, cell.layernorm_i) + layer_norm(
            h @ cell.weight_hh.T, cell.layernorm_h)
        i, f, g, o = gates.split(6, dim=-1)
        expected_c = layer_norm(torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g), cell.layernorm_c)
        expected_h = torch.sigmoid(o) * torch.tanh(expected_c)
        new_h, new_c = cell(x, (h, c))
    torch.testing.assert_close(new_c, expected_c, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(new_h, expected_h, atol=1e-5, rtol=1e-5)


def test_greedy_sample_is_mostly_real_words(shipped):
    model, config = shipped
    text = sample_text(model, config["vocab"], config["sample_prompt"], 200)
    assert len(text) == 200
    words = re.findall(r"[a-z']+", text.lower())
    assert len(words) >= 20
    common = sum(word.strip("'") in COMMON_WORDS for word in words)
    assert common / len(words) >= 0.4, text
    # Real words are short; a broken model rambles in long letter runs or none.
    assert 2.0 <= sum(map(len, words)) / len(words) <= 7.0, text


def test_vocab_round_trip_and_normalisation():
    vocab = CharVocab(load_config()["vocab"])
    text = "KING.\nWhat say'st thou, Hamlet?"
    assert vocab.decode(vocab.encode(text)) == text
    assert normalise_text("caf\u00e9\tau\r\nlait\u2014") == "cafe au\nlait"
