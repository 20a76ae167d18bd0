"""A CLI command imports only what it uses (issue 14 item 4). Not timed: the timing is bench/bench_cli_startup.py.

Each command runs in a fresh interpreter with `-X importtime`; the modules it imported are read from stderr.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
HEAVY = {"pandas", "numpy", "nltk", "sklearn", "scipy", "openpyxl", "altair", "docx", "lxml", "streamlit",
         "pyarrow"}
# ...nor do they analyse text: compiling the disclosure and redaction rules of analysis/ costs 0.1-0.5 s
NOT_FOR_COUNTS = HEAVY | {"analysis", "exports"}
WRITERS = {"openpyxl", "altair", "docx", "lxml", "streamlit"}
_LINE = re.compile(r"^import time:\s+\d+ \|\s+\d+ \| *(\S+)\s*$")


def run(args: list[str], env: dict[str, str], *, importtime: bool = True) -> tuple[subprocess.CompletedProcess, set]:
    """Run python [-X importtime] args in ROOT; return the finished process and the top-level packages imported."""
    flags = ["-X", "importtime"] if importtime else []
    done = subprocess.run([sys.executable, *flags, *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120)
    names = {m.group(1).split(".")[0] for line in done.stderr.splitlines() if (m := _LINE.match(line))}
    return done, names


@pytest.fixture()
def env(tmp_path: Path) -> dict[str, str]:
    return {**os.environ, "THRIVE_DB": str(tmp_path / "startup.db"), "PYTHONDONTWRITEBYTECODE": "1"}


@pytest.fixture()
def env_with_answers(env: dict[str, str], tmp_path: Path) -> dict[str, str]:
    """A database holding one event and two answers, written through the CLI's import command."""
    csv_path = tmp_path / "answers.csv"
    csv_path.write_text("id,question,group,text\n1,thrive_helps,young_person,Friends\n"
                        "2,thrive_helps,parent_carer,The park\n", encoding="utf-8")
    done, _ = run(["cli.py", "import", "responses", str(csv_path), "--event", "Spring fair"], env, importtime=False)
    assert done.returncode == 0, done.stderr
    return env


def test_help_imports_nothing_heavy(env: dict[str, str]) -> None:
    done, names = run(["cli.py", "--help"], env)
    assert done.returncode == 0, done.stderr
    assert "Commands:" in done.stdout and "stats" in done.stdout
    assert {"click", "data", "sqlite_utils"} <= names  # the parse works: what --help does import is seen
    assert not names & NOT_FOR_COUNTS, sorted(names & NOT_FOR_COUNTS)


def test_stats_on_a_fresh_database_imports_nothing_heavy(env: dict[str, str]) -> None:
    done, names = run(["cli.py", "stats"], env)
    assert done.returncode == 0, done.stderr
    assert "No answers yet" in done.stdout
    assert Path(env["THRIVE_DB"]).exists()  # it really opened and migrated a database
    assert not names & NOT_FOR_COUNTS, sorted(names & NOT_FOR_COUNTS)


def test_stats_and_events_list_with_answers_import_nothing_heavy(env_with_answers: dict[str, str]) -> None:
    done, names = run(["cli.py", "stats"], env_with_answers)
    assert done.returncode == 0, done.stderr
    assert "2 answers" in done.stdout
    assert not names & NOT_FOR_COUNTS, sorted(names & NOT_FOR_COUNTS)
    done, names = run(["cli.py", "events", "list"], env_with_answers)
    assert done.returncode == 0, done.stderr
    assert "Spring fair" in done.stdout
    assert not names & NOT_FOR_COUNTS, sorted(names & NOT_FOR_COUNTS)


def test_csv_export_imports_no_other_writer(env_with_answers: dict[str, str], tmp_path: Path) -> None:
    target = tmp_path / "answers.csv.out"
    done, names = run(["cli.py", "export", "csv", str(target)], env_with_answers)
    assert done.returncode == 0, done.stderr
    assert "Friends" in target.read_text(encoding="utf-8-sig")
    assert "pandas" in names  # the export really ran its findings tables
    assert not names & WRITERS, sorted(names & WRITERS)


def test_unknown_export_kind_is_refused() -> None:
    import cli

    with pytest.raises(ValueError, match="unknown export kind"):
        cli._write_export(None, "pdf", Path("x.pdf"), None)  # type: ignore[arg-type]


# --- sqlite_utils without pandas/numpy (data/_lean_sqlite_utils.py) ---------------------------------------------

def _python(code: str) -> str:
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_importing_the_data_layer_loads_neither_pandas_nor_numpy() -> None:
    out = _python("import sys, data.db, data.stats, data.events, data.users, data.schema; "
                  "print(sorted(m for m in ('pandas', 'numpy', 'sqlite_utils') if m in sys.modules))")
    assert out == "['sqlite_utils']"


_MAPPING = ("import sqlite_utils.db as d; "
            "print(sorted((t.__module__ + '.' + t.__qualname__, v) for t, v in d.COLUMN_TYPE_MAPPING.items() "
            "if isinstance(t, type) and t.__module__.startswith(('numpy', 'pandas'))))")


def test_column_types_learn_numpy_and_pandas_as_upstream_has_them() -> None:
    upstream = _python("import numpy, pandas; " + _MAPPING)  # sqlite_utils imported the usual way
    lean_before = _python("import data; " + _MAPPING)
    lean_after = _python("import data, numpy, pandas, sqlite_utils.db as d; d.COLUMN_TYPE_MAPPING[numpy.int64]; "
                         + _MAPPING)
    assert "numpy.int64" in upstream and "Timestamp" in upstream  # the comparison has something to compare
    assert lean_before == "[]"
    assert lean_after == upstream


def test_numpy_and_pandas_values_still_get_their_column_types() -> None:
    out = _python(
        "import data, numpy as np, pandas as pd, sqlite_utils; db = sqlite_utils.Database(memory=True); "
        "db['t'].insert({'i': np.int64(3), 'f': np.float32(1.5), 'ts': pd.Timestamp('2026-01-02'), 's': 'x'}); "
        "print(sorted((c.name, c.type) for c in db['t'].columns))")
    assert out == "[('f', 'REAL'), ('i', 'INTEGER'), ('s', 'TEXT'), ('ts', 'TEXT')]"


def test_a_type_nobody_knows_is_still_a_key_error() -> None:
    out = _python("import data, numpy, sqlite_utils.db as d\n"
                  "try:\n    d.COLUMN_TYPE_MAPPING[complex]\nexcept KeyError:\n    print('KeyError')\n"
                  "print(d.COLUMN_TYPE_MAPPING.get(complex, 'none'))")
    assert out == "KeyError\nnone"


def test_pandas_loaded_first_is_used_by_sqlite_utils_as_usual() -> None:
    out = _python("import pandas, data, sqlite_utils.db as d; print(d.pd is pandas)")
    assert out == "True"


def test_opening_a_database_does_not_scan_for_sqlite_utils_plugins(tmp_path: Path) -> None:
    db_path = str(tmp_path / "p.db")
    out = _python(f"import data, sqlite_utils.plugins as p; db = data.open_db({db_path!r}); "
                  "print(p._plugins_loaded, db.execute('SELECT COUNT(*) FROM events').fetchone()[0])")
    assert out == "False 0"
