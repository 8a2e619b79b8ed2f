"""PyTorch reference of the shipped character language model (needs torch).

CharLM = embedding -> stack of LN-LSTM layers -> linear head. The LN-LSTM is the
"separate norms" cell (README.md, "Variants") with the "state" cell-norm placement,
i.e. the PyTorch fastrnns / NeMo LayerNormLSTMCell:

    gates = LN_i(W_ih x) + LN_h(W_hh h)       each LN over all 4H units, no bias
    i, f, g, o = gates.chunk(4)
    c' = LN_c(sigmoid(f) * c + sigmoid(i) * tanh(g))
    h' = sigmoid(o) * tanh(c')

Parameter names follow fastrnns exactly, so lnfast's fastrnns loader reads
charlm.pt with no mapping (the keys are listed in CharLM's docstring).
"""

import math

import torch
from torch import nn
import torch.nn.functional as F

from . import CHECKPOINT_PATH, load_config
from .vocab import CharVocab

LAYER_NORM_EPS = 1e-5


class LayerNormLSTMCell(nn.Module):
    def __init__(self, input_size, hidden_size, eps=LAYER_NORM_EPS):
        super().__init__()
        self.input_size = input_size
        self.hidden_size = hidden_size
        gate_units = 4 * hidden_size
        self.weight_ih = nn.Parameter(torch.empty(gate_units, input_size))
        self.weight_hh = nn.Parameter(torch.empty(gate_units, hidden_size))
        self.layernorm_i = nn.LayerNorm(gate_units, eps=eps)
        self.layernorm_h = nn.LayerNorm(gate_units, eps=eps)
        self.layernorm_c = nn.LayerNorm(hidden_size, eps=eps)
        self.reset_parameters()

    def reset_parameters(self):
        # The layer norms rescale the gate pre-activations anyway, so the
        # weight scale matters little; nn.LSTM's uniform range is a safe default.
        bound = 1.0 / math.sqrt(self.hidden_size)
        nn.init.uniform_(self.weight_ih, -bound, bound)
        # Orthogonal recurrent blocks keep early gradients through time well-conditioned.
        for block in self.weight_hh.data.chunk(4, 0):
            nn.init.orthogonal_(block)
        for norm in (self.layernorm_i, self.layernorm_h, self.layernorm_c):
            norm.reset_parameters()

    def normalized_input_gates(self, inputs):
        """LN_i(W_ih x) for any leading shape: the input half of the gates does not
        depend on the state, so training computes it for all time steps at once."""
        return self.layernorm_i(F.linear(inputs, self.weight_ih))

    def step_from_input_gates(self, input_gates, state):
        """One time step given LN_i(W_ih x); state and result are (h, c), each (B, H)."""
        hidden, cell = state
        gates = input_gates + self.layernorm_h(F.linear(hidden, self.weight_hh))
        in_gate, forget_gate, cell_gate, out_gate = gates.chunk(4, dim=-1)
        cell = self.layernorm_c(
            torch.sigmoid(forget_gate) * cell + torch.sigmoid(in_gate) * torch.tanh(cell_gate)
        )
        hidden = torch.sigmoid(out_gate) * torch.tanh(cell)
        return hidden, cell

    def forward(self, inputs, state):
        """One time step: inputs (B, I), state (h, c) -> new (h, c)."""
        return self.step_from_input_gates(self.normalized_input_gates(inputs), state)


class LayerNormLSTMLayer(nn.Module):
    """Runs one cell over a sequence. Exists so the keys read layers.{k}.cell.*."""

    def __init__(self, input_size, hidden_size, eps=LAYER_NORM_EPS):
        super().__init__()
        self.cell = LayerNormLSTMCell(input_size, hidden_size, eps)

    def forward(self, inputs, state):
        """inputs (T, B, I), state (h, c) each (B, H) -> outputs (T, B, H), final (h, c)."""
        all_input_gates = self.cell.normalized_input_gates(inputs)
        outputs = []
        for input_gates in all_input_gates.unbind(0):
            state = self.cell.step_from_input_gates(input_gates, state)
            outputs.append(state[0])
        return torch.stack(outputs), state


class StackedLayerNormLSTM(nn.Module):
    def __init__(self, input_size, hidden_size, num_layers, eps=LAYER_NORM_EPS):
        super().__init__()
        sizes = [input_size] + [hidden_size] * (num_layers - 1)
        self.layers = nn.ModuleList(LayerNormLSTMLayer(size, hidden_size, eps) for size in sizes)

    def forward(self, inputs, state):
        """inputs (T, B, I); state (h, c) each (L, B, H). Layer by layer, which
        gives the same numbers as stepping every layer once per time step."""
        hidden, cell = state
        final_hidden, final_cell = [], []
        for index, layer in enumerate(self.layers):
            inputs, (layer_hidden, layer_cell) = layer(inputs, (hidden[index], cell[index]))
            final_hidden.append(layer_hidden)
            final_cell.append(layer_cell)
        return inputs, (torch.stack(final_hidden), torch.stack(final_cell))

    def step(self, inputs, state):
        """One time step through all layers: inputs (B, I); state (h, c) each (L, B, H)."""
        hidden, cell = state
        new_hidden, new_cell = [], []
        for index, layer in enumerate(self.layers):
            layer_hidden, layer_cell = layer.cell(inputs, (hidden[index], cell[index]))
            new_hidden.append(layer_hidden)
            new_cell.append(layer_cell)
            inputs = layer_hidden
        return inputs, (torch.stack(new_hidden), torch.stack(new_cell))


class CharLM(nn.Module):
    """Character language model. State-dict keys (V vocab, E embed, H hidden, I = E
    for layer 0 and H above):

        embed.weight                              (V, E)
        rnn.layers.{k}.cell.weight_ih             (4H, I)
        rnn.layers.{k}.cell.weight_hh             (4H, H)
        rnn.layers.{k}.cell.layernorm_i.weight    (4H,)   and .bias (4H,)
        rnn.layers.{k}.cell.layernorm_h.weight    (4H,)   and .bias (4H,)
        rnn.layers.{k}.cell.layernorm_c.weight    (H,)    and .bias (H,)
        head.weight                               (V, H)
        head.bias                                 (V,)

    The recurrent state is a pair (h, c) of tensors shaped (layers, batch, H),
    like nn.LSTM's; c holds LN_c of the cell (the "state" placement).
    """

    def __init__(self, vocab_size, embed_dim=64, hidden_size=256, num_layers=1, eps=LAYER_NORM_EPS):
        super().__init__()
        self.vocab_size = vocab_size
        self.embed_dim = embed_dim
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.embed = nn.Embedding(vocab_size, embed_dim)
        self.rnn = StackedLayerNormLSTM(embed_dim, hidden_size, num_layers, eps)
        self.head = nn.Linear(hidden_size, vocab_size)

    @classmethod
    def from_config(cls, config):
        """Build an untrained model with the sizes recorded in a charlm.json dict."""
        return cls(
            vocab_size=len(config["vocab"]),
            embed_dim=config["embed_dim"],
            hidden_size=config["hidden_size"],
            num_layers=config["num_layers"],
            eps=config["eps"],
        )

    def initial_state(self, batch_size=1):
        """All-zero (h, c), each (layers, batch_size, H)."""
        weight = self.head.weight
        shape = (self.num_layers, batch_size, self.hidden_size)
        zeros = torch.zeros(shape, dtype=weight.dtype, device=weight.device)
        return zeros, zeros.clone()

    def forward(self, token_ids, state=None):
        """Sequence forward for training: token_ids (B, T) int64 ->
        logits (B, T, V) and the final state."""
        if state is None:
            state = self.initial_state(token_ids.shape[0])
        embedded = self.embed(token_ids.transpose(0, 1))  # time-major for the loop
        outputs, state = self.rnn(embedded, state)
        return self.head(outputs).transpose(0, 1), state

    def step(self, token_ids_or_embedded, state=None):
        """One time step. Accepts an int, int64 ids shaped (B,), or float
        embeddings shaped (B, E) (to time the recurrence without the lookup).
        Returns logits (B, V) and the new state."""
        inputs = token_ids_or_embedded
        if not torch.is_tensor(inputs):
            inputs = torch.tensor([inputs], dtype=torch.long, device=self.head.weight.device)
        if not inputs.is_floating_point():
            inputs = self.embed(inputs.reshape(-1))
        if state is None:
            state = self.initial_state(inputs.shape[0])
        top_hidden, state = self.rnn.step(inputs, state)
        return self.head(top_hidden), state


def load_shipped_model(config=None, checkpoint_path=CHECKPOINT_PATH, tensors=None):
    """The shipped CharLM in eval mode, and its config dict.

    tensors: the checkpoint's arrays by name, when the caller has read them
    already (the demo, through lnfast's reader); else torch reads the file."""
    config = load_config() if config is None else config
    model = CharLM.from_config(config)
    if tensors is None:
        state_dict = torch.load(checkpoint_path, map_location="cpu", weights_only=True)
    else:
        state_dict = {name: torch.tensor(array) for name, array in tensors.items()}
    model.load_state_dict(state_dict, strict=True)
    return model.eval(), config


@torch.no_grad()
def sample_text(model, vocab, prompt, length, temperature=0.0, seed=0):
    """Continue `prompt` by `length` characters, step by step with batch 1.
    temperature 0 is greedy (argmax); otherwise softmax(logits / temperature)."""
    if not isinstance(vocab, CharVocab):
        vocab = CharVocab(vocab)
    generator = torch.Generator().manual_seed(seed)
    prompt_ids = vocab.encode(prompt)
    if not prompt_ids:
        raise ValueError("prompt has no character in the model's vocabulary")
    state = None
    for token in prompt_ids:
        logits, state = model.step(token, state)
    produced = []
    for _ in range(length):
        if temperature <= 0:
            token = int(logits[0].argmax())
        else:
            probabilities = torch.softmax(logits[0] / temperature, dim=-1)
            token = int(torch.multinomial(probabilities, 1, generator=generator))
        produced.append(token)
        logits, state = model.step(token, state)
    return vocab.decode(produced)
