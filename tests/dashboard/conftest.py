"""Dashboard tests import the dashboard from the source tree (the demo databases they read
are in tests/conftest.py)."""

from __future__ import annotations

import sys
from pathlib import Path

# The dashboard runs from the source tree (like `streamlit run dashboard/app.py`), it is not an
# installed package: make `import dashboard` resolve to it whatever pytest's working directory.
ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
