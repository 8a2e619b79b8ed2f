"""Load checkpoints with lnfast in a process that never imports torch.

    python fresh_process_loader.py jobs.json report.json

jobs.json is a list of {"name", "checkpoint", "inputs" (.npy), "outputs"
(.npy to write), "kwargs" (for lnfast.load), "mapping" (lnfast.Mapping
fields, or null)}. Each checkpoint is loaded, stepped through its inputs one
step at a time, and the outputs saved. The report records each model and
whether torch was imported at any point - it must never be.
"""
import json
import sys

import numpy as np

import lnfast


def run(job: dict) -> dict:
    kwargs = dict(job["kwargs"])
    if job.get("mapping"):
        kwargs["layout"] = lnfast.Mapping(**job["mapping"])
    model = lnfast.load(job["checkpoint"], **kwargs)
    stream = model.stream()
    inputs = np.load(job["inputs"])
    np.save(job["outputs"], np.stack([stream.step(x) for x in inputs]))
    return {"model": repr(model), "torch_imported": "torch" in sys.modules}


def main(manifest: str, report_path: str) -> None:
    with open(manifest) as handle:
        jobs = json.load(handle)
    report = {"jobs": {job["name"]: run(job) for job in jobs}}
    report["torch_modules"] = sorted(name for name in sys.modules if name.split(".")[0] == "torch")
    with open(report_path, "w") as handle:
        json.dump(report, handle, indent=1)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
