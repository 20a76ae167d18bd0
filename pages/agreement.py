"""Coder agreement: draw a double-coding sample (stratified by question), see per-code Cohen's kappa and
Krippendorff's alpha for two coders, and go through their disagreements side by side to resolve them.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from data import agreement, codebook, coding
from ui import session
from ui.i18n import t

# Session keys owned by this page (all prefixed agreement_).
CODER_A, CODER_B, SAMPLE = "agreement_coder_a", "agreement_coder_b", "agreement_sample"
FLASH = "agreement_flash"
SHOW_ALL = "agreement_show_all"
PAGE = "agreement_page"
PER_PAGE = 10
NOBODY = ""  # the second coder while nobody else has coded (no username is empty)

user = session.guard("code")
lang = session.ui_language()
db = session.db()
# SAMPLE 0 stands for "every answer both coded" (a None value would show as an empty box).
for key, default in ((CODER_A, None), (CODER_B, None), (SAMPLE, 0), (FLASH, None), (SHOW_ALL, False), (PAGE, 1)):
    st.session_state.setdefault(key, default)

st.title(t("agreement.title", lang))
st.caption(t("agreement.intro", lang))
if st.session_state[FLASH]:
    st.success(session.md_escape(st.session_state[FLASH]))  # messages quote code labels
    st.session_state[FLASH] = None

people = coding.coders(db, user)
if user.username not in people:
    people = [user.username, *people]
labels = {c.name: c.label for c in codebook.list_codes(db, include_archived=True)}

# --- coders and sample -------------------------------------------------------------------------------------------

c1, c2 = st.columns(2)
if st.session_state[CODER_A] not in people:
    st.session_state[CODER_A] = user.username
c1.selectbox(t("agreement.coder_a", lang), people, key=CODER_A)
others = [p for p in people if p != st.session_state[CODER_A]] or [NOBODY]
if st.session_state[CODER_B] not in others:
    st.session_state[CODER_B] = others[0]
c2.selectbox(t("agreement.coder_b", lang), others, key=CODER_B,
             format_func=lambda p: p if p != NOBODY else t("agreement.nobody_else", lang))
coder_a, coder_b = st.session_state[CODER_A], st.session_state[CODER_B]
second_known = coder_b in people

with st.expander(t("agreement.draw.title", lang)):
    st.caption(t("agreement.draw.intro", lang))
    s1, s2 = st.columns(2)
    size = s1.number_input(t("agreement.draw.size", lang), min_value=1, max_value=5000, value=50, step=10,
                           key="agreement_size")
    seed = s2.number_input(t("agreement.draw.seed", lang), min_value=0, value=0, step=1, key="agreement_seed")
    new_b = st.text_input(t("agreement.draw.coder_b", lang), value=coder_b if second_known else "",
                          key="agreement_sample_coder_b",
                          help=t("agreement.draw.coder_b_help", lang))
    if st.button(t("agreement.draw.button", lang), key="agreement_draw", type="primary"):
        try:
            sample = agreement.draw_sample(db, user, coder_a=coder_a, coder_b=new_b, size=int(size),
                                           seed=int(seed) or None)
        except agreement.AgreementError as exc:
            st.error(session.md_escape(str(exc)))
        else:
            st.session_state[FLASH] = t("agreement.draw.done", lang, size=sample.size, seed=sample.seed,
                                        name=sample.name)
            st.session_state[SAMPLE] = sample.id
            st.rerun()

samples = {s.id: s for s in agreement.list_samples(db, user)}
if st.session_state[SAMPLE] not in samples:
    st.session_state[SAMPLE] = 0
st.selectbox(t("agreement.over.label", lang), [0, *samples], key=SAMPLE,
             format_func=lambda s: t("agreement.over.all", lang) if not s else
             t("agreement.over.sample", lang, name=samples[s].name, size=samples[s].size, seed=samples[s].seed))
sample_id = st.session_state[SAMPLE] or None

if not second_known:
    st.info(t("agreement.needs_two", lang))
    st.stop()

# --- the figures -------------------------------------------------------------------------------------------------

report = agreement.report(db, user, coder_a, coder_b, sample_id=sample_id)
m1, m2, m3 = st.columns(3)
m1.metric(t("agreement.metric.both", lang), f"{report.n:,}")
overall = report.overall


def fmt(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f}"


m2.metric(t("agreement.metric.kappa", lang), fmt(overall["mean_kappa"]))
m3.metric(t("agreement.metric.alpha", lang), fmt(overall["mean_alpha"]))
if report.n == 0:
    st.info(t("agreement.none_shared_sample" if sample_id else "agreement.none_shared", lang,
              a=session.md_escape(coder_a), b=session.md_escape(coder_b)))
    st.stop()

st.toggle(t("agreement.show_all", lang), key=SHOW_ALL)
rows = []
for name, c in report.codes.items():
    if not st.session_state[SHOW_ALL] and c.applied_a == 0 and c.applied_b == 0:
        continue
    rows.append({"code": labels.get(name, name), "kappa": c.kappa, "alpha": c.alpha, "n": c.n,
                 "same decision": c.observed, "A applied": c.applied_a, "B applied": c.applied_b, "both": c.both,
                 "note": c.reason})
# the table's columns keep these names (the page's tests read them); their headings are in the session's language
st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch", column_config={
    "code": st.column_config.TextColumn(t("agreement.col.code", lang)),
    "kappa": st.column_config.NumberColumn(t("agreement.col.kappa", lang), format="%.2f",
                                           help=t("agreement.col.kappa_help", lang)),
    "alpha": st.column_config.NumberColumn(t("agreement.col.alpha", lang), format="%.2f",
                                           help=t("agreement.col.alpha_help", lang)),
    "n": st.column_config.NumberColumn(t("agreement.col.n", lang)),
    "same decision": st.column_config.ProgressColumn(t("agreement.col.same", lang), min_value=0.0, max_value=1.0,
                                                     format="percent"),
    "A applied": st.column_config.NumberColumn(t("agreement.col.a_applied", lang)),
    "B applied": st.column_config.NumberColumn(t("agreement.col.b_applied", lang)),
    "both": st.column_config.NumberColumn(t("agreement.col.both", lang)),
    "note": st.column_config.TextColumn(t("agreement.col.note", lang), width="medium"),
})
st.caption(t("agreement.table_note", lang, a=session.md_escape(coder_a), b=session.md_escape(coder_b)))

# --- disagreements ------------------------------------------------------------------------------------------------

st.subheader(t("agreement.disagreements", lang))
found = agreement.disagreements(db, user, coder_a, coder_b, sample_id=sample_id)
if not found:
    st.success(t("agreement.no_disagreements", lang))
    st.stop()
me = user.username if user.username in (coder_a, coder_b) else None
st.caption(t("agreement.differ_mine" if me else "agreement.differ_others", lang, count=f"{len(found):,}"))
pages = max(1, -(-len(found) // PER_PAGE))
st.session_state[PAGE] = min(st.session_state[PAGE], pages)
if pages > 1:
    st.number_input(t("agreement.page", lang, pages=pages), min_value=1, max_value=pages, step=1, key=PAGE)
start = (st.session_state[PAGE] - 1) * PER_PAGE


def on_resolve(response_id: str, code: str, apply: bool) -> None:
    conn = session.db()
    try:
        agreement.resolve(conn, user, response_id, code, apply=apply)
    finally:
        conn.conn.close()
    st.session_state[FLASH] = t("agreement.added" if apply else "agreement.removed", lang,
                                label=labels.get(code, code))


for d in found[start:start + PER_PAGE]:
    with st.container(border=True):
        st.caption(session.md_escape(f"{d.question} · {d.group}"))
        if d.withheld and not coding.sees_withheld(user):
            st.warning(t("agreement.withheld", lang), icon=":material/shield_person:")
        st.markdown(session.md_escape(d.text))
        left, right = st.columns(2)
        for column, coder, codes, only_mine, only_theirs in (
                (left, coder_a, d.codes_a, d.only_a, d.only_b), (right, coder_b, d.codes_b, d.only_b, d.only_a)):
            column.markdown(f"**{session.md_escape(coder)}**")
            for code in codes:
                marker = " ≠" if code in only_mine else ""
                column.text(f"{labels.get(code, code)}{marker}")
            if coder == me:
                for code in only_mine:
                    column.button(t("agreement.remove", lang, label=session.md_escape(labels.get(code, code))),
                                  key=f"agreement_remove_{d.response_id}_{code}",
                                  on_click=on_resolve, args=(d.response_id, code, False), width="stretch")
                for code in only_theirs:
                    column.button(t("agreement.add", lang, label=session.md_escape(labels.get(code, code))),
                                  key=f"agreement_add_{d.response_id}_{code}",
                                  on_click=on_resolve, args=(d.response_id, code, True), width="stretch")
