import os
import sys

# Shared test helpers (reference.py, variants.py, torch_cells.py) live here.
sys.path.insert(0, os.path.dirname(__file__))
