"""`lnfast demo`: stream text from the shipped character-level LN-LSTM.

The recurrence runs in lnfast (loaded through the regular checkpoint loader);
the embedding lookup and the output layer are two small NumPy operations.
Where torch is importable, the same steps also run through the PyTorch
module that trained the model, and both texts and latencies are compared.
"""
from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field

import numpy as np

from . import loading
from .charlm import CHECKPOINT_PATH, load_config
from .charlm.vocab import CharVocab
from .formats import read_checkpoint
from .timing import summarize_ns


@dataclass
class Generation:
    text: str
    step_ns: list = field(default_factory=list)


class Sampler:
    """Greedy at temperature 0, else softmax sampling by inverse CDF from a
    seeded NumPy generator: given close logits, two runtimes draw the same
    characters from the same uniforms."""

    def __init__(self, temperature: float, seed: int):
        self.temperature = temperature
        self.rng = np.random.default_rng(seed)

    def __call__(self, logits: np.ndarray) -> int:
        logits = np.asarray(logits, np.float64)
        if self.temperature <= 0:
            return int(np.argmax(logits))
        z = logits / self.temperature
        p = np.exp(z - z.max())
        cdf = np.cumsum(p / p.sum())
        return int(min(np.searchsorted(cdf, self.rng.random()), len(cdf) - 1))


class LnfastCharLM:
    def __init__(self, path=CHECKPOINT_PATH):
        tensors = read_checkpoint(path).tensors
        self.embed = tensors["embed.weight"]
        self.head_w = tensors["head.weight"]
        self.head_b = tensors["head.bias"]
        self.model = loading.load(path, prefix="rnn")

    def generate(self, prompt_ids, length, sampler, echo=None) -> Generation:
        stream = self.model.stream()
        h = np.empty(self.model.hidden_size, np.float32)
        out = Generation("")
        produced = []
        token = None
        for step in range(len(prompt_ids) + length):
            if step < len(prompt_ids):
                token = prompt_ids[step]
            x = self.embed[token]
            t0 = time.perf_counter_ns()
            stream.step(x, out=h)
            out.step_ns.append(time.perf_counter_ns() - t0)
            if step + 1 >= len(prompt_ids) and len(produced) < length:
                token = sampler(self.head_w @ h + self.head_b)
                produced.append(token)
                if echo:
                    echo(token)
        out.produced = produced
        return out


def torch_generation(prompt_ids, length, sampler, path=CHECKPOINT_PATH):
    """The same loop through PyTorch eager, timing the recurrent step only."""
    import torch

    from .charlm.torch_model import load_shipped_model

    torch.set_num_threads(1)
    module, _ = load_shipped_model(checkpoint_path=path)
    out = Generation("")
    produced = []
    with torch.inference_mode():
        state = module.initial_state(1)
        token = None
        for step in range(len(prompt_ids) + length):
            if step < len(prompt_ids):
                token = prompt_ids[step]
            x = module.embed(torch.tensor([token]))
            t0 = time.perf_counter_ns()
            h, state = module.rnn.step(x, state)
            out.step_ns.append(time.perf_counter_ns() - t0)
            if step + 1 >= len(prompt_ids) and len(produced) < length:
                logits = module.head(h)[0].numpy()
                token = sampler(logits)
                produced.append(token)
    out.produced = produced
    return out


def torch_available() -> bool:
    try:
        import torch  # noqa: F401  (only whether it imports)
    except ImportError:
        return False
    return True


def run_demo(prompt=None, length=400, temperature=0.7, seed=0, use_torch=True, stdout=sys.stdout):
    config = load_config()
    vocab = CharVocab(config["vocab"])
    prompt = config.get("sample_prompt", "The ") if prompt is None else prompt
    prompt_ids = vocab.encode(prompt)
    if not prompt_ids:
        raise ValueError("the prompt has no character in the model's vocabulary")

    lm = LnfastCharLM()
    spec = lm.model
    print(f"lnfast demo: character LN-LSTM, {spec.num_layers} layer(s) of {spec.hidden_size} units, "
          f"kernels: {spec.isa}", file=stdout)
    corpus = config.get("corpus", {}).get("name", "its corpus")
    print(f"trained on {corpus}; validation loss {_val_loss(config)}", file=stdout)
    print("-" * 72, file=stdout)
    stdout.write(vocab.decode(prompt_ids))
    stdout.flush()

    def echo(token):
        stdout.write(vocab.decode([token]))
        stdout.flush()

    ours = lm.generate(prompt_ids, length, Sampler(temperature, seed), echo=echo)
    print("\n" + "-" * 72, file=stdout)
    stats = summarize_ns(ours.step_ns)
    print(f"lnfast   per step: median {stats['median_us']:8.2f} us   p99 {stats['p99_us']:8.2f} us   "
          f"{stats['steps_per_s']:10.0f} steps/s   ({stats['steps']} steps)", file=stdout)
    result = {"text": vocab.decode(ours.produced), "lnfast": stats}

    if use_torch and torch_available():
        theirs = torch_generation(prompt_ids, length, Sampler(temperature, seed))
        tstats = summarize_ns(theirs.step_ns)
        print(f"PyTorch  per step: median {tstats['median_us']:8.2f} us   p99 {tstats['p99_us']:8.2f} us   "
              f"{tstats['steps_per_s']:10.0f} steps/s   (eager, 1 thread)", file=stdout)
        ratio = tstats["median_us"] / stats["median_us"]
        same = theirs.produced == ours.produced
        print(f"lnfast is {ratio:.1f}x faster per step; same characters as PyTorch: "
              f"{'yes' if same else 'NO'}", file=stdout)
        result.update(torch=tstats, ratio=ratio, same_text=same)
    elif use_torch:
        print("PyTorch is not installed: skipping the comparison (pip install torch==2.13.0)", file=stdout)
    return result


def _val_loss(config):
    if "val_loss_nats" in config:
        return f"{config['val_loss_nats']:.3f} nats/char ({config.get('val_loss_bits', float('nan')):.2f} bits)"
    return "see charlm.json"
