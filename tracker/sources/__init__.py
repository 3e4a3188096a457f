"""Sources: the only code that talks to the outside world (HTTP feeds, prices, recorded files)."""
