"""Storage: typed models, the engine factory and migrations."""

from tracker.db.base import Base, utcnow
from tracker.db.engine import Database, make_engine

__all__ = ["Base", "Database", "make_engine", "utcnow"]
