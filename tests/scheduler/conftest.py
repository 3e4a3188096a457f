"""The scheduler's real jobs talk to the same loopback servers as the stages they run."""

from tests.digest.conftest import start_smtp  # noqa: F401  (a fixture, used by name)
