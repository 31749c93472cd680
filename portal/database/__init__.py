"""The front door's own data: SQLAlchemy 2 (async) on SQLite or PostgreSQL, with Alembic."""

from portal.database.engine import Base, make_engine, provide_session

__all__ = ["Base", "make_engine", "provide_session"]
