"""Exports of records (CSV, JSON, FHIR) and backup/restore of the database (no Qt)."""
