"""Event-study engine (IMPACT_SPEC.md): pure NumPy/pandas/SciPy, no I/O."""
