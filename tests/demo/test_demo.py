"""`lnfast demo` in process: one read of the shipped checkpoint serves both
runtimes, and one generation loop gives them the same characters."""
import io

import pytest

from lnfast import demo, loading


@pytest.fixture
def counted_reads(monkeypatch):
    # The demo reads through lnfast.read_tensors, which calls the loader's
    # one reader: count its calls there, and refuse torch.load outright.
    reads = []
    real = loading.read_checkpoint

    def counting(path):
        reads.append(path)
        return real(path)

    def refuse(*args, **kwargs):
        raise AssertionError("the demo read the checkpoint a second time")

    monkeypatch.setattr(loading, "read_checkpoint", counting)
    try:
        import torch
        monkeypatch.setattr(torch, "load", refuse)
    except ImportError:
        pass
    return reads


def test_demo_reads_the_checkpoint_once(counted_reads):
    out = io.StringIO()
    result = demo.run_demo(length=30, temperature=0.0, use_torch=True, stdout=out)
    assert len(counted_reads) == 1
    assert len(result["text"]) == 30
    assert result["lnfast"]["steps"] == len(result["text"]) + len(demo.load_config()["sample_prompt"])
    if "torch" in result:
        assert result["same_text"], out.getvalue()


def test_generate_feeds_back_each_sampled_token():
    fed = []

    def step(x):
        fed.append(x)
        return x

    got = demo.generate(step, embed=lambda token: token, logits_of=lambda h: h,
                        prompt_ids=[7, 8], length=3, sampler=lambda logits: logits + 1)
    # the prompt, then each sample fed back; the last sample is fed but not followed
    assert fed == [7, 8, 9, 10, 11]
    assert got.produced == [9, 10, 11]
    assert len(got.step_ns) == 5
