"""Dagster wiring of the calllogs pipeline: partitions, resources, assets, checks, schedules."""
