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
from data.importer import (
    DEFAULT_EVENT_NAME,
    ImportResult,
    InvalidFile,
    RowProblem,
    event_question_set,
    import_responses,
    preview,
)
from data.users import PermissionDenied
from ui import session
from ui.i18n import t

log = logging.getLogger(__name__)

# Session keys owned by this page (all prefixed import_).
RESULT = "import_result"  # ("ok"|"dry", ImportResult) | ("problems", ([RowProblem], more)) | ("error", message)
FILE = "import_file"
EVENT = "import_event"
DATES = "import_dates"
MAP_FILE = "import_map_file"
COLUMN = "import_col_{}"  # one selectbox per column of a wide file

ROLES = ("group", "id", "time", "ignore", "personal")  # besides "question <id>"; catalogue keys import.role.<role>
PROBLEM_COLUMNS = ("row", "column", "problem")  # catalogue keys import.col.<name>
DATE_ORDERS = ("uk", "us")  # catalogue keys import.dates.<order> and import.dates_first.<order>


def problems_table(problems: list[RowProblem], lang: str) -> pd.DataFrame:
    """The rejected file's problems as a table a person can work through: row, column, what to fix (the data
    layer's words)."""
    return pd.DataFrame([(p.row or None, p.column or "", p.message) for p in problems],
                        columns=[t(f"import.col.{c}", lang) for c in PROBLEM_COLUMNS])


def summary(result: ImportResult, lang: str) -> str:
    """What an import did or would do: data.importer.ImportResult.summary's sentence, in the catalogue's words."""
    count = {"added": f"{result.added:,}", "rows": f"{result.rows:,}"}
    parts = [t("import.summary.would_add" if result.dry_run else "import.summary.added", lang, **count)]
    if result.blank_skipped:
        parts.append(t("import.summary.blank", lang, count=f"{result.blank_skipped:,}"))
    if result.already_present:
        parts.append(t("import.summary.already", lang, count=f"{result.already_present:,}"))
    if result.respondents_added:
        parts.append(t("import.summary.respondents", lang, count=f"{result.respondents_added:,}"))
    if result.events_created:
        parts.append(t("import.summary.events", lang, names=", ".join(result.events_created)))
    if result.flags_raised:
        parts.append(t("import.summary.flags", lang, count=result.flags_raised))
    if result.changed_rows_not_updated:
        rows = ", ".join(str(r) for r in result.changed_rows_not_updated[:20])
        parts.append(t("import.summary.changed", lang, rows=rows))
    if result.mapping is not None and result.mapping.personal:
        parts.append(t("import.summary.personal", lang, columns=", ".join(result.mapping.personal)))
    if result.dry_run:
        parts.append(t("import.summary.dry_run", lang))
    return t("import.summary.sentence", lang, parts=t("import.summary.sep", lang).join(parts))


def forget_result() -> None:
    """A new file or mapping: the previous file's result and column choices no longer apply."""
    st.session_state[RESULT] = None
    for key in [k for k in st.session_state if str(k).startswith("import_col_")]:
        del st.session_state[key]


def show_result(result: tuple[str, object] | None, lang: str) -> None:
    if not result:
        return
    kind, payload = result
    if kind in ("ok", "dry"):
        said = session.md_escape(summary(payload, lang) if isinstance(payload, ImportResult) else str(payload))
        if kind == "ok":
            st.success(t("import.done", lang, summary=said), icon=":material/check_circle:")
        else:
            st.info(t("import.checked", lang, summary=said), icon=":material/fact_check:")
    elif kind == "problems":
        problems, more = payload  # type: ignore[misc]
        total = f"{len(problems) + more:,}"
        st.error(t("import.problems_more" if more else "import.problems", lang, count=total),
                 icon=":material/error:")
        if more:
            st.warning(t("import.problems_first", lang, shown=f"{len(problems):,}", more=f"{more:,}"),
                       icon=":material/list:")
        row, column, problem = (t(f"import.col.{c}", lang) for c in PROBLEM_COLUMNS)
        st.dataframe(problems_table(problems, lang), hide_index=True, width="stretch",
                     column_config={row: st.column_config.NumberColumn(format="%d", width="small"),
                                    column: st.column_config.TextColumn(width="small"),
                                    problem: st.column_config.TextColumn(width="large")})
    else:
        st.error(session.md_escape(str(payload)), icon=":material/error:")


def role_choices(question_ids: list[str]) -> list[str]:
    """The options of a column's selectbox: codes ("question <id>" or a role), never words, so the chosen value
    means the same in every language."""
    return [*(f"question {q}" for q in question_ids), *ROLES]


def choice_label(choice: str, lang: str) -> str:
    role, _, qid = choice.partition(" ")
    if role == "question":
        return t("import.role.question", lang, question=qid)
    return t(f"import.role.{choice}", lang) if choice in ROLES else choice


def edit_mapping(found: Mapping, sample: list[list[object]], question_ids: list[str], lang: str) -> Mapping:
    """One selectbox per column, starting from the recognised role; the mapping as the person left it."""
    st.subheader(t("import.columns.title", lang))
    st.caption(t("import.columns.explain", lang))
    choices = role_choices(question_ids)
    data = sample[found.header_rows:]
    columns = []
    for column in found.columns:
        current = f"question {column.question_id}" if column.role == "question" else column.role
        values = [str(r[column.index]) for r in data if column.index < len(r) and r[column.index] not in (None, "")]
        left, right = st.columns([3, 2])
        with left:
            header = column.header or t("import.columns.unnamed", lang, number=column.index + 1)
            chosen = st.selectbox(session.md_escape(header), choices,
                                  index=choices.index(current), format_func=lambda c: choice_label(c, lang),
                                  key=COLUMN.format(column.index),
                                  help=session.md_escape(column.why) if column.why else None)
        with right:
            st.text(t("import.columns.example", lang, value=values[0][:80] if values else
                      t("import.columns.blank", lang)))
        role, _, qid = chosen.partition(" ")
        columns.append(Column(column.index, column.header, role, qid or None,
                              column.why if chosen == current else "chosen on the Import page"))
    return dataclasses.replace(found, columns=tuple(columns))


def main() -> None:
    user = session.guard("import")
    lang = session.ui_language()
    db = session.db()
    state = st.session_state
    state.setdefault(RESULT, None)
    st.title(t("import.title", lang))
    st.write(t("import.intro", lang))
    st.caption(t("import.all_or_nothing", lang))
    upload = st.file_uploader(t("import.file", lang), type=["csv", "xlsx", "tsv", "txt"], key=FILE,
                              on_change=forget_result)
    open_names = [e.name for e in events.list_events(db, status="open")]
    st.text_input(t("import.event", lang), key=EVENT,
                  placeholder=DEFAULT_EVENT_NAME,
                  help=t("import.event_help_open", lang, names=t("import.list_sep", lang).join(
                      session.md_escape(n) for n in open_names)) if open_names else
                  t("import.event_help_none", lang))
    with st.expander(t("import.options", lang)):
        st.radio(t("import.dates", lang), DATE_ORDERS, key=DATES, horizontal=True,
                 format_func=lambda d: t(f"import.dates.{d}", lang), on_change=forget_result)
        map_upload = st.file_uploader(t("import.mapping_file", lang), type=["yaml", "yml"],
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
                order = t(f"import.dates_first.{'us' if found.dates == 'us' else 'uk'}", lang)
                st.info(t("import.recognised_wide_tool", lang, tool=session.md_escape(found.tool),
                          rows=found.header_rows, dates=order) if found.tool else
                        t("import.recognised_wide", lang, rows=found.header_rows, dates=order),
                        icon=":material/table_view:")
                question_ids = [q.id for q in event_question_set(db, event).questions]
                mapping = edit_mapping(found, sample, question_ids, lang)
                for note in found.notes:
                    st.caption(session.md_escape(note))
                st.download_button(t("import.save_mapping", lang), mapping.to_yaml(),
                                   file_name="import-mapping.yaml", mime="application/x-yaml", key="import_save_map",
                                   help=t("import.save_mapping_help", lang))
            else:
                mapping = found
                st.info(t("import.recognised_long", lang), icon=":material/table_view:")
            st.caption(t("import.first_rows", lang))
            st.dataframe(pd.DataFrame([["" if c is None else str(c) for c in row] for row in sample]),
                         hide_index=True, width="stretch")
    left, right = st.columns(2)
    check = left.button(t("import.check", lang), width="stretch", key="import_check",
                        disabled=upload is None)
    go = right.button(t("import.go", lang), type="primary", width="stretch", key="import_go",
                      disabled=upload is None)
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
            state[RESULT] = ("error", t("import.failed", lang))
        else:
            state[RESULT] = ("dry" if check else "ok", result)
    with result_box:
        show_result(state[RESULT], lang)


main()
