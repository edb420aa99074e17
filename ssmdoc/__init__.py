"""ssmdoc: long-document analysis on hybrid state-space language models.

Kept light on purpose: importing ssmdoc.models or ssmdoc.kernels goes through this module.
"""

import os

__version__ = "0.1.0"

# torch's OpenMP threads spin between parallel regions by default. When another process holds a core (a
# laptop, a shared server), a spinning thread waits for a pre-empted one at every op and two threads end up
# several times slower than one (docs/benchmarks.md, "peers"); sleeping waiters degrade gracefully instead.
# It must be set before torch loads OpenMP, so here, before ssmdoc.models imports torch; a user's own
# setting wins.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
