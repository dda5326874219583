"""calllogs: an exact, incremental call-log warehouse pipeline (plain library, no Dagster)."""

import os as _os

# Arrow's default pool (mimalloc) keeps freed buffers for reuse; over the hundreds of small
# partitions of a sync that retained memory, not live data, set the peak RSS (measured on 33k calls:
# ~270 MB with mimalloc, ~200 MB with the system allocator). It must be chosen before pyarrow loads;
# an explicit ARROW_DEFAULT_MEMORY_POOL still wins.
_os.environ.setdefault("ARROW_DEFAULT_MEMORY_POOL", "system")

__version__ = "0.1.0"
