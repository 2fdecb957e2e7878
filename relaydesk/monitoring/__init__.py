"""Network topology, telemetry ingest and rollups, and customer footprint."""
