"""Import answers from a CSV or XLSX file: a long file, or a survey tool's export, previewed with its mapping.

The page reads the upload, shows the mapping data.importer would use (editable per column) and the first rows, and
hands the bytes and the chosen mapping to data.importer.import_responses, which does the checking and writing.
"""

from __future__ import annotations

import dataclasses
import logging

import pandas as pd
import streamlit as st

from data import events
from data.import_mapping import Column, Mapping
from data.importer import DEFAULT_EVENT_NAME, InvalidFile, RowProblem, event_question_set, import_responses, preview
from data.users import PermissionDenied
from ui import session

log = logging.getLogger(__name__)

# Session keys owned by this page (all prefixed import_).
RESULT = "import_result"  # ("ok", summary) | ("problems", ([RowProblem], more)) | ("error", message)
FILE = "import_file"
EVENT = "import_event"
DATES = "import_dates"
MAP_FILE = "import_map_file"
COLUMN = "import_col_{}"  # one selectbox per column of a wide file

ROLE_NAMES = {"ignore": "ignore", "personal": "drop (personal data)", "id": "submission id",
              "time": "time", "group": "respondent group"}


def problems_table(problems: list[RowProblem]) -> pd.DataFrame:
    """The rejected file's problems as a table a person can work through: row, column, what to fix."""
    return pd.DataFrame([{"Row": p.row or None, "Column": p.column or "", "Problem": p.message} for p in problems],
                        columns=["Row", "Column", "Problem"])


def forget_result() -> None:
    """A new file or mapping: the previous file's result and column choices no longer apply."""
    st.session_state[RESULT] = None
    for key in [k for k in st.session_state if str(k).startswith("import_col_")]:
        del st.session_state[key]


def show_result(result: tuple[str, object] | None) -> None:
    if not result:
        return
    kind, payload = result
    if kind == "ok":
        st.success(f"Imported. {session.md_escape(str(payload))}", icon=":material/check_circle:")
    elif kind == "dry":
        st.info(f"Checked, nothing written: {session.md_escape(str(payload))}", icon=":material/fact_check:")
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


def role_choices(question_ids: list[str]) -> list[str]:
    return [*(f"question {q}" for q in question_ids), "group", "id", "time", "ignore", "personal"]


def choice_label(choice: str) -> str:
    return choice if choice.startswith("question ") else ROLE_NAMES.get(choice, choice)


def edit_mapping(found: Mapping, sample: list[list[object]], question_ids: list[str]) -> Mapping:
    """One selectbox per column, starting from the recognised role; the mapping as the person left it."""
    st.subheader("How the columns are read")
    st.caption("Each column of the file and what it becomes. Change any that are wrong; personal data (e-mail, "
               "names, IP addresses) is dropped and never stored.")
    choices = role_choices(question_ids)
    data = sample[found.header_rows:]
    columns = []
    for column in found.columns:
        current = f"question {column.question_id}" if column.role == "question" else column.role
        values = [str(r[column.index]) for r in data if column.index < len(r) and r[column.index] not in (None, "")]
        left, right = st.columns([3, 2])
        with left:
            chosen = st.selectbox(session.md_escape(column.header or f"(column {column.index + 1})"), choices,
                                  index=choices.index(current), format_func=choice_label,
                                  key=COLUMN.format(column.index),
                                  help=session.md_escape(column.why) if column.why else None)
        with right:
            st.text("e.g. " + (values[0][:80] if values else "(blank)"))
        role, _, qid = chosen.partition(" ")
        columns.append(Column(column.index, column.header, role, qid or None,
                              column.why if chosen == current else "chosen on the Import page"))
    return dataclasses.replace(found, columns=tuple(columns))


def main() -> None:
    user = session.guard("import")
    db = session.db()
    state = st.session_state
    state.setdefault(RESULT, None)
    st.title("Import answers")
    st.write("Upload a spreadsheet of answers (CSV or Excel): a survey tool's export (Microsoft Forms, Google Forms, "
             "KoBoToolbox, ODK Central, SurveyMonkey, Qualtrics: one row per respondent, one column per question), "
             "or one row per answer with columns **id, question, group, text** (optional **respondent**, **event**, "
             "**created_at**).")
    st.caption("The whole file is imported or nothing is: a file with any problem is rejected with a list of the rows "
               "to fix. Blank answers are skipped. Importing the same file again adds nothing new.")
    upload = st.file_uploader("File", type=["csv", "xlsx", "tsv", "txt"], key=FILE, on_change=forget_result)
    open_names = [e.name for e in events.list_events(db, status="open")]
    st.text_input("Event for rows without an event column (optional)", key=EVENT,
                  placeholder=DEFAULT_EVENT_NAME,
                  help="An open event's name, or a new name to create that event. "
                       + (f"Open events: {', '.join(session.md_escape(n) for n in open_names)}." if open_names else "There are no open events."))
    with st.expander("Dates and a saved mapping"):
        st.radio("Dates like 03/04/2026 are", ["uk", "us"], key=DATES, horizontal=True,
                 format_func=lambda d: {"uk": "day first (UK)", "us": "month first (US)"}[d],
                 on_change=forget_result)
        map_upload = st.file_uploader("Mapping file saved from an earlier import (optional)", type=["yaml", "yml"],
                                      key=MAP_FILE, on_change=forget_result)
    result_box = st.container()  # the outcome (or the file's problems) above the preview
    event = (state.get(EVENT) or "").strip() or None
    dates = state.get(DATES)
    mapping: Mapping | None = None
    if upload is not None:
        try:
            found, sample = preview(db, user, upload.getvalue(), upload.name, event=event,
                                    mapping=map_upload.getvalue() if map_upload is not None else None, dates=dates)
        except InvalidFile as exc:
            state[RESULT] = ("problems", (exc.problems, exc.more))
        except PermissionDenied as exc:
            state[RESULT] = ("error", str(exc))
        else:
            if found.layout == "wide":
                st.info(f"Recognised: one row per respondent{' (' + session.md_escape(found.tool) + ')' if found.tool else ''}, "
                        f"{found.header_rows} header row(s), dates {'month' if found.dates == 'us' else 'day'} "
                        "first.", icon=":material/table_view:")
                question_ids = [q.id for q in event_question_set(db, event).questions]
                mapping = edit_mapping(found, sample, question_ids)
                for note in found.notes:
                    st.caption(session.md_escape(note))
                st.download_button("Save mapping", mapping.to_yaml(), file_name="import-mapping.yaml",
                                   mime="application/x-yaml", key="import_save_map",
                                   help="Use it for the next file of the same form (Dates and a saved mapping).")
            else:
                mapping = found
                st.info("Recognised: one row per answer (id, question, group, text).", icon=":material/table_view:")
            st.caption("The first rows of the file:")
            st.dataframe(pd.DataFrame([["" if c is None else str(c) for c in row] for row in sample]),
                         hide_index=True, width="stretch")
    left, right = st.columns(2)
    check = left.button("Check only (write nothing)", width="stretch", key="import_check",
                        disabled=upload is None)
    go = right.button("Import", type="primary", width="stretch", key="import_go", disabled=upload is None)
    if (check or go) and upload is not None and mapping is not None:
        try:
            result = import_responses(db, user, upload.getvalue(), upload.name, event=event, mapping=mapping,
                                      dates=dates, dry_run=check)
        except InvalidFile as exc:
            state[RESULT] = ("problems", (exc.problems, exc.more))
        except PermissionDenied as exc:
            state[RESULT] = ("error", str(exc))
        except Exception:  # noqa: BLE001 - the detail goes to the log, the person gets what to do
            log.exception("import failed")
            state[RESULT] = ("error", "The import did not finish and nothing was written (the database may have been "
                                      "busy). Try again in a moment; if it keeps failing, tell an admin.")
        else:
            state[RESULT] = ("dry" if check else "ok", result.summary())
    with result_box:
        show_result(state[RESULT])


main()
