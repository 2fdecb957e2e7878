"""Reports: promise against reality."""
