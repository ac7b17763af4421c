"""Triggers that refuse UPDATE and DELETE on the chained tables.

A record, an amendment or an audit event is never changed or removed by this tool; the triggers
stop anything else that goes through the database from doing it by mistake. Someone who drops
them on purpose is still caught by ``verify`` (the hash chain).
"""

from __future__ import annotations

from sqlalchemy import Connection, text

APPEND_ONLY_TABLES = ("records", "amendments", "audit_events")

_PG_FUNCTION = """
CREATE OR REPLACE FUNCTION pharmacist_tool_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'The table % is append-only: add an amendment instead of changing a row',
        TG_TABLE_NAME;
END
$$
"""


def install_append_only_guards(conn: Connection) -> None:
    if conn.dialect.name == "sqlite":
        for table in APPEND_ONLY_TABLES:
            for action in ("UPDATE", "DELETE"):
                conn.exec_driver_sql(
                    f"CREATE TRIGGER IF NOT EXISTS {table}_no_{action.lower()} "
                    f"BEFORE {action} ON {table} BEGIN SELECT RAISE(ABORT, "
                    f"'The table {table} is append-only: add an amendment instead of changing "
                    "a row'); END"
                )
    elif conn.dialect.name == "postgresql":
        conn.execute(text(_PG_FUNCTION))  # text(): the % in the message reaches PostgreSQL
        for table in APPEND_ONLY_TABLES:
            conn.exec_driver_sql(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION pharmacist_tool_append_only()"
            )


def remove_append_only_guards(conn: Connection) -> None:
    if conn.dialect.name == "sqlite":
        for table in APPEND_ONLY_TABLES:
            for action in ("update", "delete"):
                conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS {table}_no_{action}")
    elif conn.dialect.name == "postgresql":
        for table in APPEND_ONLY_TABLES:
            conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")


_PG_USERS_FUNCTION = """
CREATE OR REPLACE FUNCTION pharmacist_tool_users_no_delete() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'Users are never deleted: deactivate the user instead';
END
$$
"""


def install_user_guards(conn: Connection) -> None:
    """Refuse DELETE on ``users`` (a user is deactivated, never removed; their records name
    them). Changes to a user row are checked against the chain instead (``verify``)."""
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql(
            "CREATE TRIGGER IF NOT EXISTS users_no_delete BEFORE DELETE ON users BEGIN "
            "SELECT RAISE(ABORT, 'Users are never deleted: deactivate the user instead'); END"
        )
    elif conn.dialect.name == "postgresql":
        conn.execute(text(_PG_USERS_FUNCTION))
        conn.exec_driver_sql(
            "CREATE TRIGGER users_no_delete BEFORE DELETE ON users "
            "FOR EACH ROW EXECUTE FUNCTION pharmacist_tool_users_no_delete()"
        )


def remove_user_guards(conn: Connection) -> None:
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("DROP TRIGGER IF EXISTS users_no_delete")
    elif conn.dialect.name == "postgresql":
        conn.exec_driver_sql("DROP TRIGGER IF EXISTS users_no_delete ON users")
