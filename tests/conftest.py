import os
import sys

# The tests are grouped in sub-folders by the part of lnfast they test; the
# helpers they share (reference.py, variants.py, torch_cells.py, paths.py,
# concurrency.py, child_process.py) live here, at the top, and import from any of them.
sys.path.insert(0, os.path.dirname(__file__))
