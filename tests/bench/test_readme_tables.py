"""bench/harness/readme_tables.py turns a run's results file into README's
speed tables: every row of the committed run is printed, each cell from
that run's numbers, and README shows those very tables."""
import re
import subprocess
import sys

from paths import ROOT

SCRIPT = str(ROOT / "bench" / "harness" / "readme_tables.py")
RESULTS = str(ROOT / "bench" / "results" / "latest.json")


def tables() -> str:
    return subprocess.run([sys.executable, SCRIPT, RESULTS], check=True, capture_output=True,
                          text=True).stdout


def test_both_tables_come_out_whole():
    out = tables()
    latency = [line for line in out.splitlines() if re.match(r"\| (LN-)?(LSTM|GRU|RNN) \| \d+ \|", line)]
    assert len(latency) == 12
    for line in latency:
        assert line.count("|") == 15 and " x |" not in line
    summary = [line for line in out.splitlines() if line.startswith("| step_many")
               or line.startswith("| fp32 step") or line.startswith("| 2 threads")]
    assert len(summary) == 6, summary


def test_readme_shows_the_committed_run():
    readme = (ROOT / "README.md").read_text()
    for line in tables().splitlines():
        if line.startswith("| ") and not line.startswith("| cell") and not line.startswith("|---"):
            assert line in readme, (f"README lacks a row of bench/results/latest.json: {line}\n"
                                   "paste the tables `python bench/harness/readme_tables.py` prints")
