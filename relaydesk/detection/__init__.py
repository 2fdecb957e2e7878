"""Anomaly detection on network telemetry: pure NumPy, no Django import."""
