"""The CLI's small timing helpers: summaries and the progress bar."""
import io
import time

import numpy as np

from lnfast.timing import ProgressBar, summarize_ns


def test_summary_of_per_step_times():
    stats = summarize_ns([1000] * 98 + [5000, 9000])
    assert stats["median_us"] == 1.0
    assert 4.9 < stats["p99_us"] <= 9.0
    assert stats["steps_per_s"] == 1e6 and stats["steps"] == 100
    assert np.isnan(summarize_ns([])["median_us"])


class FakeTerminal(io.StringIO):
    def isatty(self):
        return True


def test_progress_bar_stays_quiet_on_short_runs():
    out = FakeTerminal()
    bar = ProgressBar(100, "lnfast", after_s=60, stream=out)
    for i in range(100):
        bar.update(i)
    bar.close()
    assert out.getvalue() == ""


def test_progress_bar_shows_on_long_runs():
    out = FakeTerminal()
    bar = ProgressBar(10, "lnfast", after_s=0.0, stream=out)
    time.sleep(0.01)
    bar.update(5)
    assert "lnfast [###############...............] 5/10" in out.getvalue()
    bar.close()
    assert out.getvalue().endswith("\r")


def test_progress_bar_never_draws_into_redirected_output():
    out = io.StringIO()  # a file or a pipe: isatty() is False
    bar = ProgressBar(10, "lnfast", after_s=0.0, stream=out)
    time.sleep(0.01)
    bar.update(5)
    bar.close()
    assert out.getvalue() == ""
