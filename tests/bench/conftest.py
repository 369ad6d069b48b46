import sys
from pathlib import Path

# `bench/` is not an installed package: make it importable however pytest is started.
ROOT = str(Path(__file__).resolve().parents[2])
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)
