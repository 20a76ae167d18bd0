"""Codebook: the codes (themes and sub-codes) with their definitions; add, edit, rename, merge, split, archive;
load the starter codebook; import and export CSV.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from data import codebook, coding
from data.importer import InvalidFile
from ui import session

# Session keys owned by this page (all prefixed codebook_).
FLASH = "codebook_flash"
EDIT = "codebook_edit_code"
GEN = "codebook_gen"  # bumped after a change so the edit form re-reads the stored code
SHOW_ARCHIVED = "codebook_show_archived"
EDIT_NEXT = "codebook_edit_next"
DEFAULT_COLOUR = "#4c78a8"  # a renamed code to select in the edit box on the next run

user = session.guard("codebook")
db = session.db()
for key, default in ((FLASH, None), (EDIT, None), (GEN, 0), (SHOW_ARCHIVED, False), (EDIT_NEXT, None)):
    st.session_state.setdefault(key, default)

st.title("Codebook")
st.caption("Themes and their sub-codes (two levels). Archived codes are hidden from coding but kept, with their "
           "codings, in history and findings.")


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
        return "(none: a theme)"
    code = by_name.get(name)
    return f"{code.label} ({code.name})" if code else name


if not all_codes:
    st.info("The codebook is empty. Start from the starter codebook below (themes for every question: the neglect "
            "categories, family, safety, places, school, services, money and housing, being listened to), import a "
            "CSV, or add codes by hand.")

# --- an offer to restructure themes named after the questions ---------------------------------------------------------

question_themes = codebook.question_named_themes(db) if all_codes else []
if question_themes:
    with st.container(border=True):
        names = ", ".join(f"“{c.label}”" for c in question_themes)
        st.markdown(session.md_escape(
            f"Your themes {names} are named after the questions, so a theme chart shows the question again. "
            "Restructure in one step: their sub-codes move under the starter codebook's themes, which work for "
            "every question (the neglect categories, family, safety, places, school, services, money and housing, "
            "being listened to); the question themes are archived; every coding stays on its code."))
        plan = codebook.plan_restructure(db)
        theme_choices = sorted({t for _, _, t in plan.moves} | set(codebook.starter_mapping().values()))
        extra: dict[str, str] = {}
        for code_name, old_theme in plan.unmapped:  # a sub-code the partnership added: the officer chooses
            extra[code_name] = st.selectbox(session.md_escape(f"New theme for {code_name} (now under {old_theme})"),
                                            theme_choices,
                                            key=f"codebook_restructure_{code_name}")
        with st.expander("The mapping (sub-code: old theme → new theme)"):
            st.dataframe(pd.DataFrame(
                [{"sub-code": n, "old theme": o, "new theme": t} for n, o, t in plan.moves]
                + [{"sub-code": n, "old theme": o, "new theme": extra[n]} for n, o in plan.unmapped]),
                hide_index=True, width="stretch")
        if st.button("Restructure the codebook", key="codebook_restructure", type="primary",
                     icon=":material/account_tree:"):
            try:
                result = codebook.restructure_codebook(db, user, extra)
            except codebook.CodebookError as exc:
                st.error(session.md_escape(str(exc)))
            else:
                done(f"Codebook restructured. {len(result.moved)} sub-code(s) moved, {len(result.added)} code(s) added, "
                     f"{len(result.archived)} question theme(s) archived. Every coding was kept.")

# --- overview --------------------------------------------------------------------------------------------------------

if all_codes:
    st.toggle("Show archived codes", key=SHOW_ARCHIVED)
    shown = all_codes if st.session_state[SHOW_ARCHIVED] else active
    table = pd.DataFrame([{
        "code": c.name, "label": ("    ↳ " if c.parent_id else "") + c.label, "theme": c.parent or "",
        "definition": c.definition, "keywords": "; ".join(c.keywords),
        "answers": usage.get(c.id, {}).get("answers", 0),
        "status": "merged" if c.merged_into else ("archived" if c.archived else ""),
    } for c in shown])
    st.dataframe(table, hide_index=True, width="stretch",
                 column_config={"definition": st.column_config.TextColumn(width="large")})

tab_add, tab_edit, tab_merge, tab_split, tab_archive, tab_files = st.tabs(
    ["Add", "Edit or rename", "Merge", "Split", "Archive", "Starter, import, export"])
themes = [c.name for c in active if c.parent_id is None]

with tab_add:
    with st.form("codebook_add", clear_on_submit=True):
        name = st.text_input("Short name (unique)", placeholder="e.g. food_poverty", key="codebook_add_name")
        label = st.text_input("Label", placeholder="e.g. Food poverty", key="codebook_add_label")
        parent = st.selectbox("Theme it belongs to", [None, *themes], format_func=label_of, key="codebook_add_parent")
        definition = st.text_area("Definition", key="codebook_add_definition")
        keywords = st.text_input("Keywords (separate with ;)", key="codebook_add_keywords")
        if st.form_submit_button("Add code", type="primary"):
            try:
                created = codebook.create_code(db, user, name, label, definition=definition, parent=parent,
                                               keywords=keywords)
            except codebook.CodebookError as exc:
                st.error(session.md_escape(str(exc)))
            else:
                done(f"Added {created.label}.")

with tab_edit:
    if not all_codes:
        st.caption("No codes yet.")
    else:
        names = [c.name for c in all_codes]
        if st.session_state[EDIT_NEXT]:
            st.session_state[EDIT], st.session_state[EDIT_NEXT] = st.session_state[EDIT_NEXT], None
        if st.session_state[EDIT] not in names:
            st.session_state[EDIT] = names[0]
        chosen = st.selectbox("Code", names, format_func=label_of, key=EDIT)
        code = by_name[chosen]
        prefix = f"codebook_edit_{code.id}_{gen}"
        with st.form(f"{prefix}_form"):
            new_name = st.text_input("Short name", value=code.name, key=f"{prefix}_name")
            new_label = st.text_input("Label", value=code.label, key=f"{prefix}_label")
            parents = [None, *[t for t in themes if t != code.name]]
            new_parent = st.selectbox("Theme it belongs to", parents, format_func=label_of,
                                      index=parents.index(code.parent) if code.parent in parents else 0,
                                      key=f"{prefix}_parent")
            new_definition = st.text_area("Definition", value=code.definition, key=f"{prefix}_definition")
            c1, c2 = st.columns(2)
            include = c1.text_area("Include when...", value=code.include_guidance, key=f"{prefix}_include")
            exclude = c2.text_area("Exclude when...", value=code.exclude_guidance, key=f"{prefix}_exclude")
            examples = st.text_area("Example quotes (one per line)", value="\n".join(code.examples),
                                    key=f"{prefix}_examples")
            new_keywords = st.text_input("Keywords (separate with ;)", value="; ".join(code.keywords),
                                         key=f"{prefix}_keywords")
            colour = st.color_picker("Colour", value=code.colour or DEFAULT_COLOUR, key=f"{prefix}_colour")
            if not code.colour and colour == DEFAULT_COLOUR:
                colour = ""  # the picker needs a value; an untouched one does not give the code a colour
            if st.form_submit_button("Save changes", type="primary"):
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
                    done(f"Saved {code.name}.")

with tab_merge:
    if len(active) < 2:
        st.caption("Merging needs two codes.")
    else:
        names = [c.name for c in active]
        c1, c2 = st.columns(2)
        source = c1.selectbox("Merge this code...", names, format_func=label_of, key="codebook_merge_source")
        target = c2.selectbox("...into this one (it stays)", [n for n in names if n != source], format_func=label_of,
                              key="codebook_merge_target")
        moving = usage.get(by_name[source].id, {}).get("codings", 0)
        st.write(f"{moving:,} coding(s) of “{session.md_escape(by_name[source].label)}” will move to "
                 f"“{session.md_escape(by_name[target].label)}”. A coder who had both keeps one. "
                 f"“{session.md_escape(by_name[source].label)}” is then archived as merged.")
        if st.button("Merge", key="codebook_merge_button", type="primary"):
            try:
                result = codebook.merge_codes(db, user, source, target)
            except codebook.CodebookError as exc:
                st.error(session.md_escape(str(exc)))
            else:
                done(f"Merged {result.merged} into {result.survivor}: {result.codings_moved} coding(s) moved, "
                     f"{result.duplicates_collapsed} duplicate(s) combined.")

with tab_split:
    if not active:
        st.caption("No codes yet.")
    else:
        source = st.selectbox("Split this code", [c.name for c in active], format_func=label_of,
                              key="codebook_split_source")
        coded = coding.answers_with_code(db, user, source) if user.can("code") else []
        options = {rid: f"{text[:90]}  [{coders}]" for rid, text, coders in coded}
        st.caption(f"{len(coded):,} answer(s) are coded with it. Choose the ones that belong to the new code; "
                   "their codings (every coder's) move to it.")
        picked = st.multiselect("Answers for the new code", list(options), format_func=options.get,
                                key="codebook_split_answers")
        c1, c2 = st.columns(2)
        new_name = c1.text_input("New code's short name", key="codebook_split_name")
        new_label = c2.text_input("New code's label", key="codebook_split_label")
        if st.button("Split", key="codebook_split_button", type="primary"):
            try:
                created, moved = codebook.split_code(db, user, source, new_name, new_label, response_ids=picked)
            except codebook.CodebookError as exc:
                st.error(session.md_escape(str(exc)))
            else:
                done(f"Created {created.label}; {moved} coding(s) moved to it.")

with tab_archive:
    if not all_codes:
        st.caption("No codes yet.")
    else:
        names = [c.name for c in all_codes if c.merged_into is None]
        chosen = st.selectbox("Code", names, format_func=lambda n: label_of(n) + (" · archived" if by_name[n].archived
                                                                               else ""),
                              key="codebook_archive_code")
        code = by_name[chosen]
        if code.archived:
            if st.button("Bring back into use", key="codebook_unarchive_button"):
                codebook.unarchive_code(db, user, code)
                done(f"{code.label} is back in use.")
        else:
            st.caption("Archiving hides the code from coding; its codings stay in history and findings.")
            if st.button("Archive", key="codebook_archive_button"):
                codebook.archive_code(db, user, code)
                done(f"Archived {code.label}.")

with tab_files:
    st.subheader("Starter codebook")
    st.write("Four themes and 23 sub-codes drawn from the neglect strategy: the neglect categories (physical, "
             "emotional, medical, educational, nutritional, supervision), what helps children thrive, what stops "
             "them, and what would help locally. Loading adds only codes you do not have; your edits are kept.")
    if st.button("Load the starter codebook", key="codebook_starter"):
        result = codebook.load_starter_codebook(db, user)
        done(f"Starter codebook: {len(result.created)} code(s) added, {len(result.unchanged)} already there.")
    st.divider()
    st.subheader("Import a codebook")
    st.caption("Our CSV (code, label, definition, optionally parent, keywords), Taguette's codebook CSV (tag, "
               "description), or a REFI-QDA codebook (.qdc, or a .qdpx project) from NVivo, ATLAS.ti, MAXQDA, "
               "QualCoder and others. You see what the file would do first: new codes are added; a code you "
               "already have changes only if you tick it below.")
    upload = st.file_uploader("Codebook file", type=["csv", "qdc", "qdpx", "qde", "xml"], key="codebook_upload")
    plan = None
    if upload is not None:
        try:
            plan = codebook.plan_codebook_file(db, upload.getvalue(), upload.name)
        except InvalidFile as exc:
            st.error(f"The file was not imported ({len(exc.problems)} problem(s)); nothing was changed.")
            st.dataframe(pd.DataFrame([{"row": p.row, "column": p.column, "problem": p.message}
                                       for p in exc.problems]), hide_index=True, width="stretch")
    accepted: list[str] = []
    if plan is not None:
        st.write(f"**{len(plan.new)}** new code(s), **{len(plan.unchanged)}** unchanged, "
                 f"**{len(plan.differences)}** of your codes described differently.")
        if plan.new:
            st.dataframe(pd.DataFrame([{"new code": c.name, "label": c.label, "theme": c.parent or "(a theme)",
                                        "definition": c.definition} for c in plan.new]),
                         hide_index=True, width="stretch", key="codebook_plan_new")
        if plan.differences:
            st.caption("Differences: yours, then the file's. Tick a code to take every difference the file has for "
                       "it (moving it to another theme, or emptying a field, included); unticked codes stay as "
                       "they are.")
            for diff in plan.differences:
                risky = diff.risky
                warn = " ⚠ " + ", ".join("moves to another theme" if c.kind == "reparent" else
                                         f"empties its {codebook.FIELD_WORDS[c.field]}" for c in risky) if risky else ""
                if st.checkbox(session.md_escape(f"Update {diff.name}{warn}"), key=f"codebook_accept_{diff.code_id}"):
                    accepted.append(diff.name)
                st.dataframe(pd.DataFrame([{
                    "field": codebook.FIELD_WORDS[c.field],
                    "yours": "; ".join(c.before) if isinstance(c.before, tuple) else str(c.before or ""),
                    "the file's": "; ".join(c.after) if isinstance(c.after, tuple) else str(c.after or ""),
                    "what": {"reparent": "re-parent", "blank": "blanks yours"}.get(c.kind, "change")
                            + (f" (cannot apply: {c.problem})" if c.problem else ""),
                } for c in diff.changes]), hide_index=True, width="stretch", key=f"codebook_plan_diff_{diff.code_id}")
        for note in plan.notes:
            st.caption(session.md_escape(note))
    if upload is not None and st.button("Import", key="codebook_import", type="primary", disabled=plan is None):
        if plan is not None:
            try:
                result = codebook.apply_codebook_import(db, user, plan, update=bool(accepted),
                                                        accept=accepted or None)
            except codebook.CodebookError as exc:
                st.error(session.md_escape(str(exc)))
            else:
                done(result.summary())
    st.divider()
    st.subheader("Export")
    st.download_button("Download the codebook (CSV)", codebook.export_codebook_csv(db), file_name="codebook.csv",
                       mime="text/csv", key="codebook_download", disabled=not all_codes)
    st.download_button("Download for Taguette (CSV: tag, parent, description)", codebook.export_codebook_taguette(db),
                       file_name="codebook-taguette.csv", mime="text/csv", key="codebook_download_taguette",
                       disabled=not all_codes)
