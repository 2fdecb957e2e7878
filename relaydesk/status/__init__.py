"""Public status page."""
