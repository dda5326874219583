"""calllogs: an exact, incremental call-log warehouse pipeline (plain library, no Dagster)."""

__version__ = "0.1.0"
