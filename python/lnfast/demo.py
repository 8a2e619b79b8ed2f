"""`lnfast demo`: stream text from the shipped character-level LN-LSTM.

The recurrence runs in lnfast (loaded through the regular checkpoint loader);
the embedding lookup and the output layer are two small NumPy operations.
Where torch is importable, the same steps also run through the PyTorch
module that trained the model, and both texts and latencies are compared.
"""
from __future__ import annotations

import functools
import sys
import time
from dataclasses import dataclass, field

import numpy as np

from . import loading
from .charlm import CHECKPOINT_PATH, load_config
from .charlm.vocab import CharVocab
from .timing import summarize_ns


@dataclass
class Generation:
    produced: list = field(default_factory=list)  # the sampled token ids
    step_ns: list = field(default_factory=list)   # each recurrent step's time


def generate(step, embed, logits_of, prompt_ids, length, sampler, echo=None) -> Generation:
    """Feed the prompt, then sample ``length`` tokens, each fed back in: the
    one generation loop of every runtime. step(x) -> h advances the
    runtime's own state and is the only call timed; embed(token) -> x and
    logits_of(h) are the NumPy (or torch) layers around it."""
    out = Generation()
    token = None
    for t in range(len(prompt_ids) + length):
        if t < len(prompt_ids):
            token = prompt_ids[t]
        x = embed(token)
        t0 = time.perf_counter_ns()
        h = step(x)
        out.step_ns.append(time.perf_counter_ns() - t0)
        if t + 1 >= len(prompt_ids) and len(out.produced) < length:
            token = sampler(logits_of(h))
            out.produced.append(token)
            if echo:
                echo(token)
    return out


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
    """The shipped model from one read of its checkpoint: the recurrence in
    lnfast, the embedding and output layer as NumPy arrays."""

    def __init__(self, path=CHECKPOINT_PATH):
        self.tensors = tensors = loading.read_tensors(path)
        self.embed = tensors["embed.weight"]
        self.head_w = tensors["head.weight"]
        self.head_b = tensors["head.bias"]
        self.model = loading.load_tensors(tensors, str(path), prefix="rnn")

    def generate(self, prompt_ids, length, sampler, echo=None) -> Generation:
        h = np.empty(self.model.hidden_size, np.float32)
        step = functools.partial(self.model.stream().step, out=h)  # no allocation per step
        return generate(step, self.embed.__getitem__, lambda h: self.head_w @ h + self.head_b,
                        prompt_ids, length, sampler, echo)


def torch_generation(prompt_ids, length, sampler, config, tensors) -> Generation:
    """The same loop through PyTorch eager, on the same arrays, timing the
    recurrent step only."""
    import torch

    from .charlm.torch_model import load_shipped_model

    torch.set_num_threads(1)
    module, _ = load_shipped_model(config=config, tensors=tensors)
    state = module.initial_state(1)

    def step(x):
        nonlocal state
        h, state = module.rnn.step(x, state)
        return h

    with torch.inference_mode():
        return generate(step, lambda token: module.embed(torch.tensor([token])),
                        lambda h: module.head(h)[0].numpy(), prompt_ids, length, sampler)


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
        theirs = torch_generation(prompt_ids, length, Sampler(temperature, seed), config,
                                  lm.tensors)
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
