"""Import sqlite_utils without pandas and numpy (issue 14: they were 0.8 s of every CLI command's start-up).

sqlite_utils.db imports pandas and numpy whenever they are installed, only to add their scalar types (numpy.int64,
pandas.Timestamp, ...) to its Python-type -> column-type mapping. Here it is imported with those two hidden from it
(from it alone: an import of pandas by any other module, in any thread, goes ahead as usual), and its mapping is
replaced by one that learns the numpy and pandas types the first time it is asked for a type it does not hold. A
numpy or pandas value can only exist once its module has been loaded, so every lookup answers as upstream would.
Where pandas/numpy are already loaded (the Streamlit app loads pandas first), sqlite_utils imports them as usual.

data/__init__.py imports this module first, so every `import sqlite_utils` in data/ finds it already loaded.
"""

from __future__ import annotations

import importlib.abc
import sys
from typing import Any

_HIDDEN = ("pandas", "numpy")


class _HideFromSqliteUtils(importlib.abc.MetaPathFinder):
    """Refuse pandas/numpy to an import made (directly or through importlib) by sqlite_utils.db's module code."""

    def find_spec(self, fullname: str, path: Any, target: Any = None) -> None:
        if fullname in _HIDDEN:
            frame = sys._getframe(1)
            while frame is not None:
                if frame.f_globals.get("__name__") == "sqlite_utils.db":
                    raise ModuleNotFoundError(f"{fullname} hidden from sqlite_utils.db", name=fullname)
                frame = frame.f_back
        return None


class ColumnTypes(dict):
    """sqlite_utils' COLUMN_TYPE_MAPPING that adds numpy's and pandas' scalar types once those modules are loaded."""

    def _learn(self) -> bool:
        """Add the types of whichever of numpy/pandas is now loaded; True if anything was added."""
        added = {}
        np = sys.modules.get("numpy")
        if np is not None and np.int64 not in self:
            added.update({t: "INTEGER" for t in (np.int8, np.int16, np.int32, np.int64,
                                                  np.uint8, np.uint16, np.uint32, np.uint64)})
            added.update({t: "REAL" for t in (np.float16, np.float32, np.float64)})
        pd = sys.modules.get("pandas")
        if pd is not None and getattr(pd, "Timestamp", None) is not None and pd.Timestamp not in self:
            added[pd.Timestamp] = "TEXT"
        self.update(added)
        return bool(added)

    def __missing__(self, key: Any) -> str:
        if self._learn() and key in self:
            return self[key]
        raise KeyError(key)

    def get(self, key: Any, default: Any = None) -> Any:
        if key not in self:
            self._learn()
        return super().get(key, default)


def _import() -> Any:
    if "sqlite_utils.db" not in sys.modules:
        finder = _HideFromSqliteUtils()
        sys.meta_path.insert(0, finder)
        try:
            import sqlite_utils.db
        finally:
            sys.meta_path.remove(finder)
    import sqlite_utils.db

    if not isinstance(sqlite_utils.db.COLUMN_TYPE_MAPPING, ColumnTypes):
        sqlite_utils.db.COLUMN_TYPE_MAPPING = ColumnTypes(sqlite_utils.db.COLUMN_TYPE_MAPPING)
    return sqlite_utils


sqlite_utils = _import()
