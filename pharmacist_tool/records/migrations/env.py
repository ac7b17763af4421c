"""Alembic environment for the records database, shipped inside the package.

``db.alembic_config`` points ``script_location`` here (computed from ``__file__``, so it works
from a source checkout, an installed wheel and a frozen build) and passes the open connection.
"""

from __future__ import annotations

from alembic import context

from pharmacist_tool.records.models import Base

config = context.config
connection = config.attributes.get("connection")

if connection is None:
    from sqlalchemy import create_engine

    from pharmacist_tool import paths
    from pharmacist_tool.records.db import normalise_url

    engine = create_engine(
        normalise_url(config.get_main_option("sqlalchemy.url") or paths.database_url()),
        hide_parameters=True,  # never a patient's data in an error or the log
    )
    with engine.begin() as own_connection:
        context.configure(
            connection=own_connection, target_metadata=Base.metadata, render_as_batch=True
        )
        with context.begin_transaction():
            context.run_migrations()
else:
    context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()
