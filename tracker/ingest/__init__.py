"""Ingest: turns source output into stored rows, idempotently."""
