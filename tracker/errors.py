"""The tracker's exception hierarchy.

``TrackerError``
 ├── ``ConfigError``     invalid settings; names the setting (exit status 2)
 ├── ``UserInputError``  bad input on the command line or API (exit status 2)
 ├── ``NotFoundError``   an unknown ticker, event, feed ... (exit status 2)
 └── ``DataUnavailableError``  recorded or live data cannot be reached

Every ``TrackerError`` carries a one-line message that is safe to show to a user:
the CLI prints it without a traceback.
"""


class TrackerError(Exception):
    """Base class of the errors a user is shown as one line."""

    exit_code = 2


class ConfigError(TrackerError):
    """A setting is invalid; the message names the setting."""


class UserInputError(TrackerError):
    """Input given by the user is invalid; the message says what and why."""


class NotFoundError(TrackerError):
    """Something the user named does not exist."""


class DataUnavailableError(TrackerError):
    """A data source (recorded directory, network source) cannot be read."""
