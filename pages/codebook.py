"""Codebook: the codes (themes and sub-codes) with their definitions; add, edit, rename, merge, split, archive;
load the starter codebook; import and export CSV.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from data import codebook, coding
from data.importer import InvalidFile
from ui import session
from ui.i18n import t

# Session keys owned by this page (all prefixed codebook_).
FLASH = "codebook_flash"
EDIT = "codebook_edit_code"
GEN = "codebook_gen"  # bumped after a change so the edit form re-reads the stored code
SHOW_ARCHIVED = "codebook_show_archived"
EDIT_NEXT = "codebook_edit_next"  # a renamed code to select in the edit box on the next run
TABS = ("add", "edit", "merge", "split", "archive", "files")  # catalogue keys codebook.tab.<tab>
DEFAULT_COLOUR = "#4c78a8"

user = session.guard("codebook")
lang = session.ui_language()
db = session.db()
for key, default in ((FLASH, None), (EDIT, None), (GEN, 0), (SHOW_ARCHIVED, False), (EDIT_NEXT, None)):
    st.session_state.setdefault(key, default)

st.title(t("codebook.title", lang))
st.caption(t("codebook.intro", lang))


def done(message: str) -> None:
    st.session_state[FLASH] = message
    st.session_state[GEN] += 1
    st.rerun()


if st.session_state[FLASH]:
    st.success(session.md_escape(st.session_state[FLASH]))  # messages quote code names and labels
    st.session_state[FLASH] = None

all_codes = codebook.list_codes(db, include_archived=True)
active = [c for c in all_codes if not c.archived]
by_name = {c.name: c for c in all_codes}
usage = codebook.usage(db)
gen = st.session_state[GEN]


def label_of(name: str | None) -> str:
    if name is None:
        return t("codebook.none_theme", lang)
    code = by_name.get(name)
    return f"{code.label} ({code.name})" if code else name


def field_word(field: str) -> str:
    """A code's field (codebook.FIELD_WORDS's keys) as this page names it."""
    return t(f"codebook.field.{field}", lang) if field in codebook.FIELD_WORDS else field


def change_word(kind: str, problem: str | None) -> str:
    """What a file's difference would do to a field; `problem` (the data layer's words) if it cannot apply."""
    what = t(f"codebook.import.kind.{kind if kind in ('reparent', 'blank') else 'change'}", lang)
    return t("codebook.import.cannot_apply", lang, what=what, problem=problem) if problem else what


def import_summary(result: codebook.CodesImported) -> str:
    """What a codebook import did (codebook.CodesImported.summary's words, from the catalogue)."""
    text = t("codebook.import.done", lang, created=len(result.created), updated=len(result.updated),
             unchanged=len(result.unchanged))
    if result.held:
        names = ", ".join(result.held[:5]) + (", ..." if len(result.held) > 5 else "")
        text += " " + t("codebook.import.held", lang, count=len(result.held), names=names)
    return text


if not all_codes:
    st.info(t("codebook.empty", lang))

# --- an offer to restructure themes named after the questions ---------------------------------------------------------

question_themes = codebook.question_named_themes(db) if all_codes else []
if question_themes:
    with st.container(border=True):
        names = t("codebook.list_sep", lang).join(t("codebook.quoted", lang, text=c.label) for c in question_themes)
        st.markdown(session.md_escape(t("codebook.restructure.offer", lang, names=names)))
        plan = codebook.plan_restructure(db)
        theme_choices = sorted({theme for _, _, theme in plan.moves} | set(codebook.starter_mapping().values()))
        extra: dict[str, str] = {}
        for code_name, old_theme in plan.unmapped:  # a sub-code the partnership added: the officer chooses
            extra[code_name] = st.selectbox(session.md_escape(t("codebook.restructure.new_theme", lang, code=code_name,
                                                                  old=old_theme)),
                                            theme_choices,
                                            key=f"codebook_restructure_{code_name}")
        with st.expander(t("codebook.restructure.mapping", lang)):
            heads = [t(f"codebook.restructure.col.{c}", lang) for c in ("sub_code", "old_theme", "new_theme")]
            st.dataframe(pd.DataFrame([dict(zip(heads, move, strict=True)) for move in plan.moves]
                                      + [dict(zip(heads, (n, o, extra[n]), strict=True)) for n, o in plan.unmapped],
                                      columns=heads),
                         hide_index=True, width="stretch")
        if st.button(t("codebook.restructure.button", lang), key="codebook_restructure", type="primary",
                     icon=":material/account_tree:"):
            try:
                result = codebook.restructure_codebook(db, user, extra)
            except codebook.CodebookError as exc:
                st.error(session.md_escape(str(exc)))
            else:
                done(t("codebook.restructure.done", lang, moved=len(result.moved), added=len(result.added),
                       archived=len(result.archived)))

# --- overview --------------------------------------------------------------------------------------------------------

if all_codes:
    st.toggle(t("codebook.show_archived", lang), key=SHOW_ARCHIVED)
    shown = all_codes if st.session_state[SHOW_ARCHIVED] else active
    head = {c: t(f"codebook.col.{c}", lang)
            for c in ("code", "label", "theme", "definition", "keywords", "answers", "status")}
    table = pd.DataFrame([{
        head["code"]: c.name, head["label"]: ("    ↳ " if c.parent_id else "") + c.label,
        head["theme"]: c.parent or "", head["definition"]: c.definition, head["keywords"]: "; ".join(c.keywords),
        head["answers"]: usage.get(c.id, {}).get("answers", 0),
        head["status"]: (t("codebook.status.merged", lang) if c.merged_into else
                         t("codebook.status.archived", lang) if c.archived else ""),
    } for c in shown])
    st.dataframe(table, hide_index=True, width="stretch",
                 column_config={head["definition"]: st.column_config.TextColumn(width="large")})

tab_add, tab_edit, tab_merge, tab_split, tab_archive, tab_files = st.tabs(
    [t(f"codebook.tab.{tab}", lang) for tab in TABS])
themes = [c.name for c in active if c.parent_id is None]

with tab_add:
    with st.form("codebook_add", clear_on_submit=True):
        name = st.text_input(t("codebook.add.name", lang), placeholder=t("codebook.add.name_example", lang),
                             key="codebook_add_name")
        label = st.text_input(t("codebook.field_label", lang), placeholder=t("codebook.add.label_example", lang),
                              key="codebook_add_label")
        parent = st.selectbox(t("codebook.field_parent", lang), [None, *themes], format_func=label_of,
                              key="codebook_add_parent")
        definition = st.text_area(t("codebook.field_definition", lang), key="codebook_add_definition")
        keywords = st.text_input(t("codebook.field_keywords", lang), key="codebook_add_keywords")
        if st.form_submit_button(t("codebook.add.button", lang), type="primary"):
            try:
                created = codebook.create_code(db, user, name, label, definition=definition, parent=parent,
                                               keywords=keywords)
            except codebook.CodebookError as exc:
                st.error(session.md_escape(str(exc)))
            else:
                done(t("codebook.add.done", lang, label=created.label))

with tab_edit:
    if not all_codes:
        st.caption(t("codebook.no_codes", lang))
    else:
        names = [c.name for c in all_codes]
        if st.session_state[EDIT_NEXT]:
            st.session_state[EDIT], st.session_state[EDIT_NEXT] = st.session_state[EDIT_NEXT], None
        if st.session_state[EDIT] not in names:
            st.session_state[EDIT] = names[0]
        chosen = st.selectbox(t("codebook.code", lang), names, format_func=label_of, key=EDIT)
        code = by_name[chosen]
        prefix = f"codebook_edit_{code.id}_{gen}"
        with st.form(f"{prefix}_form"):
            new_name = st.text_input(t("codebook.edit.name", lang), value=code.name, key=f"{prefix}_name")
            new_label = st.text_input(t("codebook.field_label", lang), value=code.label, key=f"{prefix}_label")
            parents = [None, *[th for th in themes if th != code.name]]
            new_parent = st.selectbox(t("codebook.field_parent", lang), parents, format_func=label_of,
                                      index=parents.index(code.parent) if code.parent in parents else 0,
                                      key=f"{prefix}_parent")
            new_definition = st.text_area(t("codebook.field_definition", lang), value=code.definition,
                                          key=f"{prefix}_definition")
            c1, c2 = st.columns(2)
            include = c1.text_area(t("codebook.edit.include", lang), value=code.include_guidance,
                                   key=f"{prefix}_include")
            exclude = c2.text_area(t("codebook.edit.exclude", lang), value=code.exclude_guidance,
                                   key=f"{prefix}_exclude")
            examples = st.text_area(t("codebook.edit.examples", lang), value="\n".join(code.examples),
                                    key=f"{prefix}_examples")
            new_keywords = st.text_input(t("codebook.field_keywords", lang), value="; ".join(code.keywords),
                                         key=f"{prefix}_keywords")
            colour = st.color_picker(t("codebook.edit.colour", lang), value=code.colour or DEFAULT_COLOUR,
                                     key=f"{prefix}_colour")
            if not code.colour and colour == DEFAULT_COLOUR:
                colour = ""  # the picker needs a value; an untouched one does not give the code a colour
            if st.form_submit_button(t("codebook.edit.button", lang), type="primary"):
                try:
                    if new_name.strip() != code.name:
                        code = codebook.rename_code(db, user, code, new_name)
                        st.session_state[EDIT_NEXT] = code.name
                    codebook.update_code(db, user, code, label=new_label, parent=new_parent,
                                         definition=new_definition, include_guidance=include,
                                         exclude_guidance=exclude, examples=examples, keywords=new_keywords,
                                         colour=colour)
                except codebook.CodebookError as exc:
                    st.error(session.md_escape(str(exc)))
                else:
                    done(t("codebook.edit.done", lang, name=code.name))

with tab_merge:
    if len(active) < 2:
        st.caption(t("codebook.merge.need_two", lang))
    else:
        names = [c.name for c in active]
        c1, c2 = st.columns(2)
        source = c1.selectbox(t("codebook.merge.source", lang), names, format_func=label_of,
                              key="codebook_merge_source")
        target = c2.selectbox(t("codebook.merge.target", lang), [n for n in names if n != source],
                              format_func=label_of, key="codebook_merge_target")
        moving = usage.get(by_name[source].id, {}).get("codings", 0)
        st.write(t("codebook.merge.preview", lang, count=f"{moving:,}",
                   source=session.md_escape(by_name[source].label),
                   target=session.md_escape(by_name[target].label)))
        if st.button(t("codebook.merge.button", lang), key="codebook_merge_button", type="primary"):
            try:
                result = codebook.merge_codes(db, user, source, target)
            except codebook.CodebookError as exc:
                st.error(session.md_escape(str(exc)))
            else:
                done(t("codebook.merge.done", lang, merged=result.merged, survivor=result.survivor,
                       moved=result.codings_moved, combined=result.duplicates_collapsed))

with tab_split:
    if not active:
        st.caption(t("codebook.no_codes", lang))
    else:
        source = st.selectbox(t("codebook.split.source", lang), [c.name for c in active], format_func=label_of,
                              key="codebook_split_source")
        coded = coding.answers_with_code(db, user, source) if user.can("code") else []
        options = {rid: f"{text[:90]}  [{coders}]" for rid, text, coders in coded}
        st.caption(t("codebook.split.coded", lang, count=f"{len(coded):,}"))
        picked = st.multiselect(t("codebook.split.answers", lang), list(options), format_func=options.get,
                                key="codebook_split_answers")
        c1, c2 = st.columns(2)
        new_name = c1.text_input(t("codebook.split.name", lang), key="codebook_split_name")
        new_label = c2.text_input(t("codebook.split.label", lang), key="codebook_split_label")
        if st.button(t("codebook.split.button", lang), key="codebook_split_button", type="primary"):
            try:
                created, moved = codebook.split_code(db, user, source, new_name, new_label, response_ids=picked)
            except codebook.CodebookError as exc:
                st.error(session.md_escape(str(exc)))
            else:
                done(t("codebook.split.done", lang, label=created.label, moved=moved))

with tab_archive:
    if not all_codes:
        st.caption(t("codebook.no_codes", lang))
    else:
        names = [c.name for c in all_codes if c.merged_into is None]
        chosen = st.selectbox(t("codebook.code", lang), names,
                              format_func=lambda n: t("codebook.archive.archived_option", lang, code=label_of(n))
                              if by_name[n].archived else label_of(n),
                              key="codebook_archive_code")
        code = by_name[chosen]
        if code.archived:
            if st.button(t("codebook.archive.unarchive", lang), key="codebook_unarchive_button"):
                codebook.unarchive_code(db, user, code)
                done(t("codebook.archive.unarchived", lang, label=code.label))
        else:
            st.caption(t("codebook.archive.explain", lang))
            if st.button(t("codebook.archive.button", lang), key="codebook_archive_button"):
                codebook.archive_code(db, user, code)
                done(t("codebook.archive.done", lang, label=code.label))

with tab_files:
    st.subheader(t("codebook.starter.title", lang))
    st.write(t("codebook.starter.explain", lang))
    if st.button(t("codebook.starter.button", lang), key="codebook_starter"):
        result = codebook.load_starter_codebook(db, user)
        done(t("codebook.starter.done", lang, added=len(result.created), there=len(result.unchanged)))
    st.divider()
    st.subheader(t("codebook.import.title", lang))
    st.caption(t("codebook.import.explain", lang))
    upload = st.file_uploader(t("codebook.import.file", lang), type=["csv", "qdc", "qdpx", "qde", "xml"],
                              key="codebook_upload")
    plan = None
    if upload is not None:
        try:
            plan = codebook.plan_codebook_file(db, upload.getvalue(), upload.name)
        except InvalidFile as exc:
            st.error(t("codebook.import.refused", lang, count=len(exc.problems)))
            heads = [t(f"codebook.import.col.{c}", lang) for c in ("row", "column", "problem")]
            st.dataframe(pd.DataFrame([(p.row, p.column, p.message) for p in exc.problems], columns=heads),
                         hide_index=True, width="stretch")
    accepted: list[str] = []
    if plan is not None:
        st.write(t("codebook.import.plan", lang, new=len(plan.new), unchanged=len(plan.unchanged),
                   different=len(plan.differences)))
        if plan.new:
            heads = [t(f"codebook.import.col.{c}", lang) for c in ("new_code", "label", "theme", "definition")]
            st.dataframe(pd.DataFrame([(c.name, c.label, c.parent or t("codebook.import.a_theme", lang), c.definition)
                                       for c in plan.new], columns=heads),
                         hide_index=True, width="stretch", key="codebook_plan_new")
        if plan.differences:
            st.caption(t("codebook.import.differences", lang))
            heads = [t(f"codebook.import.col.{c}", lang) for c in ("field", "yours", "theirs", "what")]
            for diff in plan.differences:
                risks = t("codebook.list_sep", lang).join(
                    t("codebook.import.risk_reparent", lang) if c.kind == "reparent" else
                    t("codebook.import.risk_blank", lang, field=field_word(c.field)) for c in diff.risky)
                box = (t("codebook.import.update_risky", lang, name=diff.name, risks=risks) if risks else
                       t("codebook.import.update", lang, name=diff.name))
                if st.checkbox(session.md_escape(box), key=f"codebook_accept_{diff.code_id}"):
                    accepted.append(diff.name)
                st.dataframe(pd.DataFrame([(
                    field_word(c.field),
                    "; ".join(c.before) if isinstance(c.before, tuple) else str(c.before or ""),
                    "; ".join(c.after) if isinstance(c.after, tuple) else str(c.after or ""),
                    change_word(c.kind, c.problem),
                ) for c in diff.changes], columns=heads), hide_index=True, width="stretch",
                    key=f"codebook_plan_diff_{diff.code_id}")
        for note in plan.notes:
            st.caption(session.md_escape(note))
    if upload is not None and st.button(t("codebook.import.button", lang), key="codebook_import", type="primary", disabled=plan is None):
        if plan is not None:
            try:
                result = codebook.apply_codebook_import(db, user, plan, update=bool(accepted),
                                                        accept=accepted or None)
            except codebook.CodebookError as exc:
                st.error(session.md_escape(str(exc)))
            else:
                done(import_summary(result))
    st.divider()
    st.subheader(t("codebook.export.title", lang))
    st.download_button(t("codebook.export.csv", lang), codebook.export_codebook_csv(db), file_name="codebook.csv",
                       mime="text/csv", key="codebook_download", disabled=not all_codes)
    st.download_button(t("codebook.export.taguette", lang), codebook.export_codebook_taguette(db),
                       file_name="codebook-taguette.csv", mime="text/csv", key="codebook_download_taguette",
                       disabled=not all_codes)
