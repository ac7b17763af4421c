"""Signed counselling records (SQLAlchemy; SQLite or PostgreSQL; no Qt)."""
