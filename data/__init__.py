"""The database layer: the only package that issues SQL.

Open a database with `open_db`; every other module in `data/` takes that database as its first argument.
"""

from data import _lean_sqlite_utils  # noqa: F401  first: sqlite_utils without pandas/numpy (start-up)
from data.db import Database, open_db, transaction

__all__ = ["Database", "open_db", "transaction"]
