"""The loopback SMTP and webhook sinks of the incident tests, for the status tests too."""

from tests.incidents.conftest import hook_sink, mail  # noqa: F401
