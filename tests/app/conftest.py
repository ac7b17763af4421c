"""The application layer's records actions run on the records tests' databases: an SQLite file,
and a PostgreSQL schema of their own when ``PHARMACIST_TOOL_TEST_POSTGRES`` names a server."""

from tests.records.conftest import admin, database_url, db, pharmacist

__all__ = ["admin", "database_url", "db", "pharmacist"]
