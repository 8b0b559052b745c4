"""Process-wide tuning done once at start-up, after the app is built.

CPython's cyclic garbage collector runs a collection every 700 net allocations and a full one
whenever the older generations have grown by a quarter. A sync allocates hundreds of
thousands of short-lived row objects, so with the defaults collections ran back to back and
full ones walked every object of the process (aiogram's models, SQLAlchemy's registries, every
loaded row) while holding the GIL: the event loop stalled for 100–500 ms at a time and every
chat's reply waited (docs/performance.md, "Garbage collector"). Rows are not cyclic; they are
freed by reference counting whatever these settings say.
"""

from __future__ import annotations

import gc

# A young collection per 50,000 net allocations (was 700); the middle and old generations keep
# their ratios roughly (20 and 100 young/middle collections).
GC_THRESHOLDS = (50_000, 20, 100)


def tune_garbage_collector() -> None:
    """Collect once, move what survived start-up out of the collector's sight, and make
    collections rarer. Idempotent enough to call again (it freezes what lives then)."""
    gc.collect()
    # Objects alive now (modules, the app, its pools and models) live as long as the process:
    # full collections need not walk them again.
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)
