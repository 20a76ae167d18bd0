"""Import answers from a CSV or XLSX file: all rows or none; a bad file lists every row problem.

The page reads the upload and hands the bytes to data.importer.import_responses, which does the checking and writing.
"""

from __future__ import annotations

import logging

import pandas as pd
import streamlit as st

from data import events
from data.importer import DEFAULT_EVENT_NAME, InvalidFile, RowProblem, import_responses
from data.users import PermissionDenied
from ui import session

log = logging.getLogger(__name__)

# Session keys owned by this page (all prefixed import_).
RESULT = "import_result"  # ("ok", summary) | ("problems", [RowProblem]) | ("error", message)
FILE = "import_file"
EVENT = "import_event"


def problems_table(problems: list[RowProblem]) -> pd.DataFrame:
    """The rejected file's problems as a table a person can work through: row, column, what to fix."""
    return pd.DataFrame([{"Row": p.row or None, "Column": p.column or "", "Problem": p.message} for p in problems],
                        columns=["Row", "Column", "Problem"])


def forget_result() -> None:
    """A new file: the previous file's result no longer applies."""
    st.session_state[RESULT] = None


def show_result(result: tuple[str, object] | None) -> None:
    if not result:
        return
    kind, payload = result
    if kind == "ok":
        st.success(f"Imported. {session.md_escape(str(payload))}", icon=":material/check_circle:")
    elif kind == "problems":
        problems, more = payload  # type: ignore[misc]
        total = len(problems) + more
        st.error(f"**The file was not imported: nothing was written.** Fix the {total:,} problem(s) "
                 f"{'below ' if not more else ''}in the file, then upload it again.", icon=":material/error:")
        if more:
            st.warning(f"The first {len(problems):,} problems are listed, and {more:,} more were found. Fix these, "
                       "upload the file again, and the next ones will be listed.", icon=":material/list:")
        st.dataframe(problems_table(problems), hide_index=True, width="stretch",
                     column_config={"Row": st.column_config.NumberColumn(format="%d", width="small"),
                                    "Column": st.column_config.TextColumn(width="small"),
                                    "Problem": st.column_config.TextColumn(width="large")})
    else:
        st.error(session.md_escape(str(payload)), icon=":material/error:")


def main() -> None:
    user = session.guard("import")
    db = session.db()
    state = st.session_state
    state.setdefault(RESULT, None)
    st.title("Import answers")
    st.write("Upload a spreadsheet of answers (CSV or Excel). Columns: **id, question, group, text**; optional "
             "**respondent** (rows sharing it are one person), **event** and **created_at**. Row 1 is the header.")
    st.caption("The whole file is imported or nothing is: a file with any problem is rejected with a list of the rows "
               "to fix. Importing the same file again adds nothing new.")
    upload = st.file_uploader("File", type=["csv", "xlsx"], key=FILE, on_change=forget_result)
    open_names = [e.name for e in events.list_events(db, status="open")]
    st.text_input("Event for rows without an event column (optional)", key=EVENT,
                  placeholder=DEFAULT_EVENT_NAME,
                  help="An open event's name, or a new name to create that event. "
                       + (f"Open events: {', '.join(session.md_escape(n) for n in open_names)}." if open_names else "There are no open events."))
    if st.button("Import", type="primary", width="stretch", key="import_go", disabled=upload is None):
        try:
            result = import_responses(db, user, upload.getvalue(), upload.name, event=(state[EVENT] or "").strip() or None)
        except InvalidFile as exc:
            state[RESULT] = ("problems", (exc.problems, exc.more))
        except PermissionDenied as exc:
            state[RESULT] = ("error", str(exc))
        except Exception:  # noqa: BLE001 - the detail goes to the log, the person gets what to do
            log.exception("import failed")
            state[RESULT] = ("error", "The import did not finish and nothing was written (the database may have been "
                                      "busy). Try again in a moment; if it keeps failing, tell an admin.")
        else:
            state[RESULT] = ("ok", result.summary())
    show_result(state[RESULT])


main()
