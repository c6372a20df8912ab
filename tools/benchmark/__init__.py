"""The developer benchmarks (`make bench`, `make bench-scale`; docs/performance.md).

Every entry point (`python -m tools.benchmark.<name>`, a test importing a module) imports this package first,
so the one path set-up is here: the synthcxr package lives in scripts/ and is not installed into the venv
(it is shared by every checkout). A line in a submodule instead would have to precede that module's own
imports, which import sorting reorders.
"""

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SCRIPTS = REPO / "scripts"
if str(SCRIPTS) not in sys.path:
    sys.path.insert(0, str(SCRIPTS))
