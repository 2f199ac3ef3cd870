"""Alembic environment: runs on the connection `incubator.store.upgrade_schema` passes in."""

from alembic import context

from incubator.store import make_engine, metadata

config = context.config
connection = config.attributes.get("connection")
if connection is None:  # `alembic upgrade head` from a shell: use the configured database
    engine = make_engine(config.get_main_option("sqlalchemy.url") or None)
    # a write transaction from the start, which waits for a busy SQLite database
    with engine.connect() as connection, connection.execution_options(incubator_write=True).begin():
        context.configure(connection=connection, target_metadata=metadata)
        context.run_migrations()
else:
    context.configure(connection=connection, target_metadata=metadata)
    context.run_migrations()
