"""Incidents, notices and the Alertmanager receiver."""
