"""Prefect flows of cleaner (installed as the package `cleaner_flows`)."""
