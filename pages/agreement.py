"""Coder agreement: draw a double-coding sample (stratified by question), see per-code Cohen's kappa and
Krippendorff's alpha for two coders, and go through their disagreements side by side to resolve them.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from data import agreement, codebook, coding
from ui import session

# Session keys owned by this page (all prefixed agreement_).
CODER_A, CODER_B, SAMPLE = "agreement_coder_a", "agreement_coder_b", "agreement_sample"
FLASH = "agreement_flash"
SHOW_ALL = "agreement_show_all"
PAGE = "agreement_page"
PER_PAGE = 10

user = session.guard("code")
db = session.db()
# SAMPLE 0 stands for "every answer both coded" (a None value would show as an empty box).
for key, default in ((CODER_A, None), (CODER_B, None), (SAMPLE, 0), (FLASH, None), (SHOW_ALL, False), (PAGE, 1)):
    st.session_state.setdefault(key, default)

st.title("Coder agreement")
st.caption("A second coder codes a sample of answers too; kappa and alpha show, code by code, how far the two "
           "agree beyond chance (1 = complete agreement, 0 = no better than chance).")
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
c1.selectbox("First coder", people, key=CODER_A)
others = [p for p in people if p != st.session_state[CODER_A]] or ["(nobody else has coded yet)"]
if st.session_state[CODER_B] not in others:
    st.session_state[CODER_B] = others[0]
c2.selectbox("Second coder", others, key=CODER_B)
coder_a, coder_b = st.session_state[CODER_A], st.session_state[CODER_B]
second_known = coder_b in people

with st.expander("Draw a double-coding sample"):
    st.caption("Answers are drawn at random, in proportion to each question's share of the answers, and stored: "
               "both coders then code the sample (on the coding page, filter by this sample).")
    s1, s2 = st.columns(2)
    size = s1.number_input("How many answers", min_value=1, max_value=5000, value=50, step=10,
                           key="agreement_size")
    seed = s2.number_input("Random seed (0 = choose one)", min_value=0, value=0, step=1, key="agreement_seed")
    new_b = st.text_input("Second coder's username", value=coder_b if second_known else "",
                          key="agreement_sample_coder_b",
                          help="The person who will double-code the sample; they need not have coded yet.")
    if st.button("Draw the sample", key="agreement_draw", type="primary"):
        try:
            sample = agreement.draw_sample(db, user, coder_a=coder_a, coder_b=new_b, size=int(size),
                                           seed=int(seed) or None)
        except agreement.AgreementError as exc:
            st.error(session.md_escape(str(exc)))
        else:
            st.session_state[FLASH] = (f"Drew a sample of {sample.size} answers (seed {sample.seed}). "
                                       f"Both coders can now filter the coding queue by “{sample.name}”.")
            st.session_state[SAMPLE] = sample.id
            st.rerun()

samples = {s.id: s for s in agreement.list_samples(db, user)}
if st.session_state[SAMPLE] not in samples:
    st.session_state[SAMPLE] = 0
st.selectbox("Compare over", [0, *samples], key=SAMPLE,
             format_func=lambda s: "Every answer both coders coded" if not s else
             f"Sample “{samples[s].name}” ({samples[s].size} answers, seed {samples[s].seed})")
sample_id = st.session_state[SAMPLE] or None

if not second_known:
    st.info("Agreement needs two people who have both coded some of the same answers. Draw a sample above and "
            "ask a second coder to code it.")
    st.stop()

# --- the figures -------------------------------------------------------------------------------------------------

report = agreement.report(db, user, coder_a, coder_b, sample_id=sample_id)
m1, m2, m3 = st.columns(3)
m1.metric("Answers both coded", f"{report.n:,}")
overall = report.overall


def fmt(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f}"


m2.metric("Mean kappa", fmt(overall["mean_kappa"]))
m3.metric("Mean alpha", fmt(overall["mean_alpha"]))
if report.n == 0:
    st.info(f"{session.md_escape(coder_a)} and {session.md_escape(coder_b)} have not yet coded any of the same answers"
            + (" in this sample." if sample_id else "."))
    st.stop()

st.toggle("Include codes neither coder used", key=SHOW_ALL)
rows = []
for name, c in report.codes.items():
    if not st.session_state[SHOW_ALL] and c.applied_a == 0 and c.applied_b == 0:
        continue
    rows.append({"code": labels.get(name, name), "kappa": c.kappa, "alpha": c.alpha, "n": c.n,
                 "same decision": c.observed, "A applied": c.applied_a, "B applied": c.applied_b, "both": c.both,
                 "note": c.reason})
st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch", column_config={
    "kappa": st.column_config.NumberColumn(format="%.2f", help="Cohen's kappa on applied / not applied"),
    "alpha": st.column_config.NumberColumn(format="%.2f", help="Krippendorff's alpha (nominal)"),
    "same decision": st.column_config.ProgressColumn(min_value=0.0, max_value=1.0, format="percent"),
    "note": st.column_config.TextColumn(width="medium"),
})
st.caption(f"A = {session.md_escape(coder_a)}, B = {session.md_escape(coder_b)}. Blank kappa/alpha: undefined, because both coders made the same decision on every answer "
           "(see the note). Values above about 0.8 are usually taken as good, 0.67–0.8 as tentative.")

# --- disagreements ------------------------------------------------------------------------------------------------

st.subheader("Disagreements")
found = agreement.disagreements(db, user, coder_a, coder_b, sample_id=sample_id)
if not found:
    st.success("No disagreements: the two coders gave the same codes to every answer they both coded.")
    st.stop()
me = user.username if user.username in (coder_a, coder_b) else None
st.caption(f"{len(found):,} answer(s) where the codes differ. Talk them through; "
           + ("then change your own coding with the buttons." if me else
              "each coder resolves by changing their own coding (sign in as one of them to use the buttons)."))
pages = max(1, -(-len(found) // PER_PAGE))
st.session_state[PAGE] = min(st.session_state[PAGE], pages)
if pages > 1:
    st.number_input(f"Page (of {pages})", min_value=1, max_value=pages, step=1, key=PAGE)
start = (st.session_state[PAGE] - 1) * PER_PAGE


def on_resolve(response_id: str, code: str, apply: bool) -> None:
    conn = session.db()
    try:
        agreement.resolve(conn, user, response_id, code, apply=apply)
    finally:
        conn.conn.close()
    verb = "Added" if apply else "Removed"
    st.session_state[FLASH] = f"{verb} {labels.get(code, code)} {'to' if apply else 'from'} your coding."


for d in found[start:start + PER_PAGE]:
    with st.container(border=True):
        st.caption(session.md_escape(f"{d.question} · {d.group}"))
        if d.withheld and not coding.sees_withheld(user):
            st.warning("This answer is withheld pending the safeguarding lead's review, so its words are not shown. "
                       "Talk the codes through from its question and group, or leave it for now; ask your "
                       "safeguarding lead if you need to know more.", icon=":material/shield_person:")
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
                    column.button(f"Remove {session.md_escape(labels.get(code, code))}", key=f"agreement_remove_{d.response_id}_{code}",
                                  on_click=on_resolve, args=(d.response_id, code, False), width="stretch")
                for code in only_theirs:
                    column.button(f"Add {session.md_escape(labels.get(code, code))}", key=f"agreement_add_{d.response_id}_{code}",
                                  on_click=on_resolve, args=(d.response_id, code, True), width="stretch")
