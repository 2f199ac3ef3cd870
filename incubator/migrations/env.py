"""Alembic environment: runs on the connection `incubator.store.upgrade_schema` passes in."""

from alembic import context

from incubator.store import make_engine, metadata

config = context.config
connection = config.attributes.get("connection")
if connection is None:  # `alembic upgrade head` from a shell: use the configured database
    with make_engine(config.get_main_option("sqlalchemy.url") or None).begin() as connection:
        context.configure(connection=connection, target_metadata=metadata)
        context.run_migrations()
else:
    context.configure(connection=connection, target_metadata=metadata)
    context.run_migrations()
