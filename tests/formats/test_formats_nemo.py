"""NeMo .nemo archives: the weights inside a tar (plain or gzip), read
without extracting, and hostile tars refused with a CheckpointError."""
import io
import tarfile

import numpy as np
import pytest
import torch

import lnfast
from lnfast import CheckpointError
from lnfast.formats import nemo_archive

CONFIG = b"target: nemo.collections.asr.models.EncDecRNNTModel\nencoder:\n  hidden: 5\n"


def weights_bytes(module) -> bytes:
    buffer = io.BytesIO()
    torch.save(module.state_dict(), buffer)
    return buffer.getvalue()


def save_to(path, weights: bytes, mode="w:", config=CONFIG):
    """As NeMo's save_to writes a .nemo: the config and weights in a folder,
    tarred with arcname "." (members "./model_config.yaml", ...)."""
    folder = path.parent / (path.name + ".folder")
    folder.mkdir()
    (folder / "model_config.yaml").write_bytes(config)
    (folder / "model_weights.ckpt").write_bytes(weights)
    with tarfile.open(path, mode) as tar:
        tar.add(folder, arcname=".")
    return path


def tar_of(members, mode="w:") -> bytes:
    """A tar of (TarInfo, data or None) pairs, built by hand."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode=mode) as tar:
        for info, data in members:
            if data is not None:
                info.size = len(data)
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    return buffer.getvalue()


def member(name, kind=tarfile.REGTYPE, **fields):
    info = tarfile.TarInfo(name)
    info.type = kind
    for key, value in fields.items():
        setattr(info, key, value)
    return info


@pytest.fixture
def module():
    torch.manual_seed(0)
    return torch.nn.LSTM(4, 6, num_layers=2)


@pytest.mark.parametrize("mode", ["w:", "w:gz"], ids=["tar", "tar.gz"])
def test_nemo_archive_loads_and_matches_torch(tmp_path, module, mode, monkeypatch):
    path = save_to(tmp_path / "model.nemo", weights_bytes(module), mode)
    # Nothing is extracted: tarfile's extraction entry points are never used.
    monkeypatch.setattr(tarfile.TarFile, "extractall", None)
    monkeypatch.setattr(tarfile.TarFile, "extract", None)
    summary = lnfast.inspect(path)
    assert summary.format == "nemo"
    X = np.random.default_rng(0).standard_normal((300, 4)).astype(np.float32)
    with torch.no_grad():
        expected = module(torch.from_numpy(X))[0].numpy()
    for source in (path, path.read_bytes(), open(path, "rb")):
        got = lnfast.load(source).run(X)
        assert np.max(np.abs(got - expected)) < 1e-4
    assert sorted(lnfast.read_tensors(path)) == sorted(module.state_dict())


def test_members_without_dot_slash(tmp_path, module):
    data = tar_of([(member("model_config.yaml"), CONFIG),
                   (member("model_weights.ckpt"), weights_bytes(module))])
    assert sorted(lnfast.read_tensors(data)) == sorted(module.state_dict())


def refused(data, pattern):
    with pytest.raises(CheckpointError, match=pattern) as caught:
        lnfast.read_tensors(data)
    return caught.value


def test_tar_without_weights_names_its_members():
    refused(tar_of([(member("./model_config.yaml"), CONFIG)]),
            "without model_weights.ckpt.*model_config.yaml")


@pytest.mark.parametrize("kind,what", [(tarfile.SYMTYPE, "symbolic link"),
                                       (tarfile.LNKTYPE, "hard link"),
                                       (tarfile.CHRTYPE, "device"),
                                       (tarfile.FIFOTYPE, "device or FIFO")])
def test_links_and_devices_are_refused(kind, what):
    data = tar_of([(member("./model_weights.ckpt", kind, linkname="/etc/passwd"), None)])
    refused(data, f"model_weights.ckpt.*is a {what}")


@pytest.mark.parametrize("name", ["../model_weights.ckpt", "/model_weights.ckpt",
                                  "a/../../model_weights.ckpt"])
def test_names_climbing_out_are_refused(module, name):
    refused(tar_of([(member(name), weights_bytes(module))]), "points outside")


def test_weights_twice_is_refused(module):
    weights = weights_bytes(module)
    refused(tar_of([(member("./model_weights.ckpt"), weights),
                    (member("model_weights.ckpt"), weights)]), "twice")


def test_absurd_declared_size_is_refused(module):
    data = bytearray(tar_of([(member("./model_weights.ckpt"), weights_bytes(module))]))
    info = tarfile.TarInfo("./model_weights.ckpt")
    info.size = 1 << 40
    data[:512] = info.tobuf(tarfile.GNU_FORMAT)
    refused(bytes(data), "claims 1099511627776 bytes")


@pytest.mark.parametrize("mode", ["w:", "w:gz"], ids=["tar", "tar.gz"])
def test_truncated_archives_are_refused_at_every_cut(module, mode):
    data = tar_of([(member("./model_config.yaml"), CONFIG),
                   (member("./model_weights.ckpt"), weights_bytes(module))], mode)
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        weights = tar.getmember("./model_weights.ckpt")
        weights_end = weights.offset_data + weights.size
    # Cuts inside the headers and the weights, not in the zero padding
    # after them, which a reader rightly need not see; the compressed
    # stream is cut within its first half (its end holds that padding).
    cuts = {1, 2, 100, 511, 512, 1024, 1600, weights_end // 2, weights_end - 1} if mode == "w:" \
        else {1, 2, 10, 100, len(data) // 4, len(data) // 2}
    for cut in sorted(cuts):
        with pytest.raises(CheckpointError):
            lnfast.read_tensors(data[:cut])


def test_too_many_members_is_refused(monkeypatch):
    monkeypatch.setattr(nemo_archive, "MAX_MEMBERS", 5)
    refused(tar_of([(member(f"./f{i}"), b"") for i in range(10)]), "more than 5 members")


def test_a_nested_tar_is_refused():
    inner = tar_of([(member("./model_config.yaml"), CONFIG)])
    refused(tar_of([(member("./model_weights.ckpt"), inner)]), "itself a tar")


def test_gzip_noise_is_a_damaged_tar():
    refused(b"\x1f\x8b" + bytes(600), "damaged tar archive")
