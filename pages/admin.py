"""Admin: accounts and roles, settings (safeguarding procedure, area, retention, idle time), erasure, retention, audit log.

Admins only; every action here is checked again in the core and recorded in the audit log.
"""

from __future__ import annotations

import hashlib
import io
import json

import pandas as pd
import streamlit as st

from data import accounts, audit, bundle, erasure, retention, sessions, settings
from data.events import list_events
from data.users import ROLE_LABELS, ROLES
from ui import session

user = session.guard("manage_users")
db = session.db()

st.session_state.setdefault("admin_notice", None)
st.session_state.setdefault("admin_erase_target", None)
st.session_state.setdefault("admin_bundle_file", None)     # (file name, bytes, answers) prepared for download
st.session_state.setdefault("admin_bundle_preview", None)  # (sha256 of the upload, BundleReport of the dry run)

st.title("Admin")
if st.session_state["admin_notice"]:
    st.success(session.md_escape(st.session_state["admin_notice"]))  # notices name accounts
    st.session_state["admin_notice"] = None


SECRET_KEYS = ("admin_new_secret", "admin_new_again", "admin_reset_secret")


def done(message: str) -> None:
    st.session_state["admin_notice"] = message
    for key in SECRET_KEYS:  # a password or PIN typed here is not kept in the session once used
        st.session_state.pop(key, None)
    st.rerun()


def role_names(roles) -> str:
    return ", ".join(ROLE_LABELS.get(r, r) for r in roles)


users_tab, settings_tab, erase_tab, retention_tab, bundle_tab, audit_tab = st.tabs(
    ["Users", "Settings", "Erasure", "Retention", "Bundles", "Audit log"])

# --- users ---------------------------------------------------------------------------------------------------------
with users_tab:
    people = accounts.list_accounts(db, user)
    st.dataframe(
        pd.DataFrame([{
            "username": a.username, "name": a.display_name, "roles": role_names(a.roles),
            "signs in with": a.secret_kind.upper() if a.secret_kind == "pin" else "password",
            "state": "disabled" if a.disabled else ("locked" if a.locked_until else "active"),
            "last sign-in": (a.last_sign_in or "")[:16].replace("T", " "), "demo": "yes" if a.is_demo else "",
        } for a in people]),
        hide_index=True,
    )

    with st.expander("Add an account", expanded=not people):
        with st.form("admin_add_user", clear_on_submit=False):
            new_name = st.text_input("Username", key="admin_new_username")
            new_display = st.text_input("Name shown in the app (optional)", key="admin_new_display")
            new_roles = st.multiselect("Roles", options=list(ROLES), format_func=ROLE_LABELS.get, key="admin_new_roles")
            new_kind = st.radio("Signs in with", options=["password", "pin"], horizontal=True, key="admin_new_kind",
                                format_func={"password": "Password (10+ characters)",
                                             "pin": f"PIN ({accounts.PIN_RULE}, peer researchers only)"}.get)
            new_secret = st.text_input("Password or PIN", type="password", key="admin_new_secret")
            new_again = st.text_input("Again", type="password", key="admin_new_again")
            if st.form_submit_button("Add account", type="primary"):
                if new_secret != new_again:
                    st.error("The two entries differ. Type them again.")
                else:
                    try:
                        accounts.create_user(db, user, new_name.strip(), new_secret, new_roles, kind=new_kind,
                                             display_name=new_display.strip())
                    except accounts.AccountError as exc:
                        st.error(session.md_escape(str(exc)))
                    else:
                        done(f"Added {new_name.strip()}. Give them their {new_kind} in person, not by message.")

    if people:
        st.subheader("Change an account")
        names = [a.username for a in people]
        chosen = st.selectbox("Account", options=names, key="admin_user_chosen")
        account = next(a for a in people if a.username == chosen)
        state = "disabled" if account.disabled else ("locked until " + account.locked_until[:16].replace("T", " ")
                                                     + " UTC" if account.locked_until else "active")
        st.text(f"{account.username}: {role_names(account.roles)}; {state}")
        left, right = st.columns(2)
        if left.button("Unlock", key="admin_unlock", disabled=not account.locked_until, width="stretch"):
            accounts.unlock(db, user, account.username)
            done(f"Unlocked {account.username}.")
        if right.button("Switch on" if account.disabled else "Switch off", key="admin_disable", width="stretch"):
            try:
                accounts.set_disabled(db, user, account.username, not account.disabled)
            except accounts.AccountError as exc:
                st.error(session.md_escape(str(exc)))
            else:
                done(f"{account.username} is now {'active' if account.disabled else 'switched off'}.")
        with st.form("admin_roles_form"):
            roles = st.multiselect("Roles", options=list(ROLES), default=list(account.roles),
                                   format_func=ROLE_LABELS.get, key=f"admin_roles_{account.username}")
            if st.form_submit_button("Save roles"):
                try:
                    accounts.set_roles(db, user, account.username, roles)
                except accounts.AccountError as exc:
                    st.error(session.md_escape(str(exc)))
                else:
                    done(f"Saved the roles of {account.username}.")
        with st.form("admin_reset_form", clear_on_submit=True):
            kind = st.radio("New", options=["password", "pin"], horizontal=True, key="admin_reset_kind",
                            index=0 if account.secret_kind == "password" else 1,
                            format_func={"password": "Password", "pin": "PIN"}.get)
            secret = st.text_input("New password or PIN", type="password", key="admin_reset_secret")
            if st.form_submit_button("Issue new password or PIN"):
                try:
                    accounts.reset_secret(db, user, account.username, secret, kind=kind)
                except accounts.AccountError as exc:
                    st.error(session.md_escape(str(exc)))
                else:
                    done(f"Issued a new {kind} for {account.username} (and cleared any lock-out).")
        # browsers kept signed in by a cookie (data/sessions.py): a lost tablet is signed out from here
        live = sessions.list_active(db, user, account.username,
                                    idle_seconds=session.idle_timeout_seconds(db))
        st.markdown(f"**Signed-in sessions** ({len(live)})")
        if live:
            st.dataframe(pd.DataFrame([{"browser": s.user_agent or "unknown", "since (UTC)": s.created_at[:16].replace("T", " "),
                                        "last seen (UTC)": s.last_seen[:16].replace("T", " ")} for s in live]),
                         hide_index=True)
            if st.button("Sign out everywhere", key="admin_revoke_sessions", width="stretch"):
                count = sessions.admin_revoke(db, user, username=account.username)
                done(f"Ended {count} session(s) of {account.username}; their unsaved forms went too.")
        else:
            st.caption("Not signed in anywhere.")

# --- settings ------------------------------------------------------------------------------------------------------
with settings_tab:
    with st.form("admin_settings_form"):
        procedure = st.text_area(
            "Local safeguarding procedure and phone numbers (shown to peer researchers when a flag is raised)",
            value=settings.get(db, "safeguarding_procedure"), height=220, key="admin_procedure")
        area = st.text_input("Area name (used in question 4 unless an event sets its own)",
                             value=settings.get(db, "area_name"), key="admin_area")
        idle = st.number_input("Sign out after this many idle minutes", min_value=1, max_value=24 * 60, step=1,
                               value=settings.get_int(db, "idle_timeout_minutes"), key="admin_idle")
        days = st.number_input("Purge original answer texts after this many days (0: keep them)", min_value=0,
                               max_value=36500, step=30, value=settings.get_int(db, "retention_days"),
                               key="admin_retention_days")
        overdue = st.number_input("Safeguarding flags stand out as overdue when open longer than this many hours",
                                  min_value=1, max_value=24 * 30, step=1,
                                  value=settings.get_int(db, "flag_overdue_hours"), key="admin_flag_overdue_hours")
        if st.form_submit_button("Save settings", type="primary"):
            changes = {"safeguarding_procedure": procedure, "area_name": area, "idle_timeout_minutes": str(int(idle)),
                       "retention_days": str(int(days)), "flag_overdue_hours": str(int(overdue))}
            try:
                for key, value in changes.items():
                    if value != settings.get(db, key):
                        settings.put(db, user, key, value)
            except settings.SettingError as exc:
                st.error(session.md_escape(str(exc)))
            else:
                done("Settings saved.")

# --- erasure -------------------------------------------------------------------------------------------------------
with erase_tab:
    st.write("Erase one respondent and everything derived from them (answers, codings, memos, pinned quotes). "
             "Safeguarding flags are kept without the text. A tombstone and an audit entry record who, when and why.")
    ref = st.text_input("Reference from the person's thank-you card (e.g. K7M-3QP), a respondent id, or the "
                        "respondent reference from an imported file", key="admin_erase_ref")
    event_names = {"": "Any event"} | {e.id: e.title for e in list_events(db)}
    event_id = st.selectbox("Event (needed when a reference is used at several events)", options=list(event_names),
                            format_func=event_names.get, key="admin_erase_event")
    if st.button("Find respondent", key="admin_erase_find"):
        try:
            found = erasure.find_respondent(db, user, ref, event=event_id or None)
        except erasure.ErasureError as exc:
            st.session_state["admin_erase_target"] = None
            st.error(session.md_escape(str(exc)))
        else:
            st.session_state["admin_erase_target"] = found
    target = st.session_state["admin_erase_target"]
    if target:
        counts = erasure.preview(db, user, target)
        card = erasure.reference_of(db, user, target)
        st.warning(f"Respondent {session.md_escape(target)}" + (f" (reference **{card}**)" if card else "")
                   + f": {counts['answers']} answer(s), {counts['codings']} coding(s), "
                   f"{counts['flags']} safeguarding flag(s) (kept, unlinked). This cannot be undone.")
        with st.form("admin_erase_form"):
            reason = st.text_input("Reason (kept in the tombstone and audit log)", key="admin_erase_reason")
            sure = st.checkbox("I understand this deletes the answers for good", key="admin_erase_sure")
            if st.form_submit_button("Erase", type="primary"):
                if not sure:
                    st.error("Tick the box to confirm.")
                else:
                    try:
                        result = erasure.erase_respondent(db, user, target, reason)
                    except erasure.ErasureError as exc:
                        st.error(session.md_escape(str(exc)))
                    else:
                        st.session_state["admin_erase_target"] = None
                        done(result.summary())
    with st.expander("Recent tombstones"):
        st.dataframe(pd.DataFrame(erasure.tombstones(db, user, limit=100)), hide_index=True)

# --- retention -----------------------------------------------------------------------------------------------------
with retention_tab:
    status = retention.status(db, user)
    if not status.days:
        st.info("Retention is off (0 days): original texts are kept. Set a number of days under Settings.")
    else:
        st.write(f"Original texts of answers recorded before {status.cutoff[:10]} ({status.days} days) are replaced "
                 "by their redacted text. Answers under an open or reviewed safeguarding flag wait until it is dealt with.")
    a, b, c = st.columns(3)
    a.metric("Due now", status.due)
    b.metric("Held for open flags", status.held)
    c.metric("Purged so far", status.purged)
    if st.button("Purge due original texts now", key="admin_retention_apply", disabled=status.due == 0, type="primary"):
        purged = retention.apply(db, user)
        done(f"Purged the original text of {purged} answer(s).")

# --- bundles (several laptops, one hub) ----------------------------------------------------------------------------
with bundle_tab:
    if not user.can("bundle"):
        st.info("Only admins carry bundles between laptops.")
    else:
        st.write("A bundle carries events with everything under them, original texts included, from this laptop to "
                 "a hub. Keep the file safe and delete it once it has been imported.")
        all_events = list_events(db)
        titles = {e.id: e.title for e in all_events}
        chosen = st.multiselect("Events to put in the bundle (none chosen: every event)", options=list(titles),
                                format_func=titles.get, key="admin_bundle_events")
        if st.button("Prepare bundle", key="admin_bundle_prepare", disabled=not all_events):
            buffer = io.BytesIO()
            manifest = bundle.export_bundle(db, user, buffer, chosen or None)
            st.session_state["admin_bundle_file"] = (bundle.bundle_filename(), buffer.getvalue(),
                                                     manifest["counts"]["responses"])
        prepared = st.session_state["admin_bundle_file"]
        if prepared:
            st.download_button(f"Download {prepared[0]} ({prepared[2]:,} answers)", data=prepared[1],
                               file_name=prepared[0], mime="application/zip", key="admin_bundle_download")
        st.subheader("Import a bundle")
        upload = st.file_uploader("Bundle from another laptop (.zip)", type=["zip"], key="admin_bundle_upload")
        if upload is not None:
            data = upload.getvalue()
            digest = hashlib.sha256(data).hexdigest()
            if st.button("Preview", key="admin_bundle_preview_button"):
                try:
                    st.session_state["admin_bundle_preview"] = (digest, bundle.import_bundle(db, user, data,
                                                                                             dry_run=True))
                except bundle.BundleError as exc:
                    st.session_state["admin_bundle_preview"] = None
                    st.error(session.md_escape(str(exc)))
            shown = st.session_state["admin_bundle_preview"]
            if shown and shown[0] == digest:
                preview = shown[1]
                st.dataframe(pd.DataFrame([{"records": table, "new": c.new, "already present": c.present,
                                            "conflicting": c.conflicts, "merged": c.updated,
                                            "erased, not brought back": c.erased}
                                           for table, c in preview.tables.items()]), hide_index=True)
                if preview.open_flags_arrived:
                    st.warning(f"Safeguarding on arrival: {preview.open_flags_arrived} open flag(s) will go straight "
                               "into the safeguarding queue.")
                st.text(preview.summary())
                if st.button("Import", type="primary", key="admin_bundle_import"):
                    try:
                        report = bundle.import_bundle(db, user, data)
                    except bundle.BundleError as exc:
                        st.error(session.md_escape(str(exc)))
                    else:
                        st.session_state["admin_bundle_preview"] = None
                        done(report.summary())

        st.subheader("Conflicts to resolve")
        open_conflicts = bundle.conflicts(db, user)
        if not open_conflicts:
            st.caption("No open conflicts: every record a bundle brought either matched or was new.")
        else:
            st.caption("A record that came in a bundle with the same id as one here but different content was not "
                       "imported. Keep the version here, or take the bundle's (for answer texts, groups and profiles, "
                       "event names, venues and areas, and code labels and definitions); a new answer text is "
                       "redacted and checked for a disclosure again.")
            st.dataframe(pd.DataFrame([{"conflict": c["id"], "records": c["table_name"], "record": c["record_id"],
                                        "reason": c["reason"], "found (UTC)": c["found_at"][:16].replace("T", " "),
                                        "by": c["found_by"] or ""} for c in open_conflicts]), hide_index=True)
            by_id = {c["id"]: c for c in open_conflicts}
            picked = st.selectbox("Conflict", options=list(by_id), key="admin_conflict_chosen",
                                  format_func=lambda i: f"{i}: {by_id[i]['table_name']} {by_id[i]['record_id']}")
            conflict = by_id[picked]
            incoming = json.loads(conflict["incoming"])
            local = json.loads(conflict["local"]) if conflict["local"] else {}

            def shown(value) -> str:
                return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)

            fields = [k for k in dict.fromkeys([*local, *incoming]) if local.get(k) != incoming.get(k)]
            st.dataframe(pd.DataFrame([{"field": k, "here": shown(local.get(k)) if local else "(nothing here)",
                                        "in the bundle": shown(incoming.get(k))} for k in fields],
                                      columns=["field", "here", "in the bundle"]), hide_index=True)
            if not bundle.RESOLVABLE_FIELDS.get(conflict["table_name"]):
                st.text("The bundle's version of this kind of record cannot replace the one here: keep the local one.")
            with st.form("admin_conflict_form"):
                keep = st.radio("Keep", options=list(bundle.RESOLUTIONS), horizontal=True, key="admin_conflict_keep",
                                format_func={"local": "The version here", "incoming": "The bundle's version"}.get)
                note = st.text_input("Note (why; kept with the conflict and in the audit log)",
                                     key="admin_conflict_note")
                if st.form_submit_button("Resolve", type="primary"):
                    try:
                        resolved = bundle.resolve_conflict(db, user, picked, keep, note)
                    except bundle.ConflictError as exc:
                        st.error(session.md_escape(str(exc)))
                    else:
                        done(resolved.summary())

# --- audit log -----------------------------------------------------------------------------------------------------
with audit_tab:
    if user.can("audit"):
        options = [""] + audit.actions(db, user)
        action = st.selectbox("Action", options=options, format_func=lambda a: a or "All actions",
                              key="admin_audit_action")
        limit = st.number_input("Rows", min_value=10, max_value=10_000, value=500, step=100, key="admin_audit_limit")
        rows = audit.entries(db, user, limit=int(limit), action=action or None)
        st.dataframe(
            pd.DataFrame([{"when (UTC)": r["at"][:19].replace("T", " "), "who": r["actor"] or "", "action": r["action"],
                           "what": " ".join(filter(None, [r["target_type"], r["target_id"]])),
                           "detail": json.dumps(r["detail"], ensure_ascii=False)} for r in rows],
                         columns=["when (UTC)", "who", "action", "what", "detail"]),
            hide_index=True,
        )
        st.caption("The audit log is append-only: the database refuses to change or delete its rows.")
    else:
        st.info("Only admins see the audit log.")
