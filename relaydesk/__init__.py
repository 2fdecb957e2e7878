"""RelayDesk: support platform for real-time streaming networks."""

__version__ = "0.1.0"
