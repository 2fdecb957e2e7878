"""Database backends: Django's own, with small additions (see each module)."""
