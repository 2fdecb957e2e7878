"""Customer portal and agent console."""
