"""Where the tests and the repository are, for tests in any sub-folder."""
from pathlib import Path

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent
