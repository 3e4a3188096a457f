"""The measure step: event studies of stored events on stored prices, stored idempotently.

Between link (events and their tickers) and present (dashboard, digest, query): reads what
link and price ingestion stored, runs the pure engine of ``tracker.impact`` and stores
FirmImpact / GroupImpact rows with their parameters and input fingerprints.
"""
