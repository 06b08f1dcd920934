"""SQLite storage (sqlite-utils): schema migrations and the one place each table is written."""

from storage.database import open_database

__all__ = ["open_database"]
