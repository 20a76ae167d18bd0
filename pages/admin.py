"""Admin: accounts and roles, settings (safeguarding procedure, area, retention, idle time), erasure, retention, audit log.

Admins only; every action here is checked again in the core and recorded in the audit log. Every interface word
comes from ui/i18n (admin.yaml), passed as it is like the literals it replaced (so the English is unchanged);
stored text filled into a markdown text is escaped first, and a label whose key tests/test_safe_names.py's lint
reads as stored text goes through md_escape whole. The core's messages and summaries, stored text and export
files stay as they are.
"""

from __future__ import annotations

import hashlib
import io
import json

import pandas as pd
import streamlit as st

from data import accounts, audit, bundle, erasure, retention, sessions, settings
from data.events import list_events
from data.users import ROLES
from ui import session
from ui.i18n import t

user = session.guard("manage_users")
db = session.db()
lang = session.ui_language()

st.session_state.setdefault("admin_notice", None)
st.session_state.setdefault("admin_erase_target", None)
st.session_state.setdefault("admin_bundle_file", None)     # (file name, bytes, answers) prepared for download
st.session_state.setdefault("admin_bundle_preview", None)  # (sha256 of the upload, BundleReport of the dry run)

st.title(session.md_escape(t("admin.title", lang)))
if notice := st.session_state["admin_notice"]:
    st.success(session.md_escape(notice))  # notices name accounts
    st.session_state["admin_notice"] = None


SECRET_KEYS = ("admin_new_secret", "admin_new_again", "admin_reset_secret")
TABS = ("users", "settings", "erasure", "retention", "bundles", "audit")  # admin.tab.<name> in the catalogue


def done(message: str) -> None:
    st.session_state["admin_notice"] = message
    for key in SECRET_KEYS:  # a password or PIN typed here is not kept in the session once used
        st.session_state.pop(key, None)
    st.rerun()


def role_names(roles) -> str:
    return ", ".join(t(f"role.{r}", lang) if r in ROLES else r for r in roles)


def role_label(role: str) -> str:
    return t(f"role.{role}", lang)


def utc_minute(stamp: str | None) -> str:
    return (stamp or "")[:16].replace("T", " ")


def kind_done(key: str, kind: str, name: str) -> str:
    """The notice after a password or a PIN was set: one whole sentence per kind, so each language words it."""
    return t(f"{key}.{'pin' if kind == 'pin' else 'password'}", lang, name=name)


pin_rule = t("admin.pin_rule", lang, low=accounts.PIN_MIN_DIGITS, high=accounts.PIN_MAX_DIGITS)


users_tab, settings_tab, erase_tab, retention_tab, bundle_tab, audit_tab = st.tabs(
    [t(f"admin.tab.{tab}", lang) for tab in TABS])

# --- users ---------------------------------------------------------------------------------------------------------
with users_tab:
    people = accounts.list_accounts(db, user)
    st.dataframe(
        pd.DataFrame([{
            t("admin.users.col.username", lang): a.username, t("admin.users.col.name", lang): a.display_name,
            t("admin.users.col.roles", lang): role_names(a.roles),
            t("admin.users.col.signs_in_with", lang): t(f"admin.users.kind.{'pin' if a.secret_kind == 'pin' else 'password'}", lang),
            t("admin.users.col.state", lang): t(f"admin.state.{'disabled' if a.disabled else ('locked' if a.locked_until else 'active')}", lang),
            t("admin.users.col.last_sign_in", lang): utc_minute(a.last_sign_in),
            t("admin.users.col.demo", lang): t("admin.users.demo_yes", lang) if a.is_demo else "",
        } for a in people]),
        hide_index=True,
    )

    with st.expander(t("admin.add.expander", lang), expanded=not people):
        with st.form("admin_add_user", clear_on_submit=False):
            new_name = st.text_input(t("admin.add.username", lang), key="admin_new_username")
            new_display = st.text_input(session.md_escape(t("admin.add.display_name", lang)), key="admin_new_display")
            new_roles = st.multiselect(t("admin.roles", lang), options=list(ROLES), format_func=role_label,
                                       key="admin_new_roles")
            new_kind = st.radio(t("admin.add.kind", lang), options=["password", "pin"], horizontal=True,
                                key="admin_new_kind", format_func=lambda k: t(f"admin.add.kind.{k}", lang, rule=pin_rule))
            new_secret = st.text_input(t("admin.add.secret", lang), type="password", key="admin_new_secret")
            new_again = st.text_input(t("admin.add.again", lang), type="password", key="admin_new_again")
            if st.form_submit_button(t("admin.add.button", lang), type="primary"):
                if new_secret != new_again:
                    st.error(t("admin.add.differ", lang))
                else:
                    try:
                        accounts.create_user(db, user, new_name.strip(), new_secret, new_roles, kind=new_kind,
                                             display_name=new_display.strip())
                    except accounts.AccountError as exc:
                        st.error(session.md_escape(str(exc)))
                    else:
                        done(kind_done("admin.add.done", new_kind, new_name.strip()))

    if people:
        st.subheader(t("admin.change.subheader", lang))
        names = [a.username for a in people]
        chosen = st.selectbox(t("admin.change.account", lang), options=names, key="admin_user_chosen")
        account = next(a for a in people if a.username == chosen)
        state = (t("admin.state.disabled", lang) if account.disabled else
                 t("admin.state.locked_until", lang, when=utc_minute(account.locked_until)) if account.locked_until
                 else t("admin.state.active", lang))
        st.text(f"{account.username}: {role_names(account.roles)}; {state}")
        left, right = st.columns(2)
        if left.button(t("admin.change.unlock", lang), key="admin_unlock", disabled=not account.locked_until, width="stretch"):
            accounts.unlock(db, user, account.username)
            done(t("admin.change.unlocked", lang, name=account.username))
        if right.button(t("admin.change.switch_on" if account.disabled else "admin.change.switch_off", lang),
                        key="admin_disable", width="stretch"):
            try:
                accounts.set_disabled(db, user, account.username, not account.disabled)
            except accounts.AccountError as exc:
                st.error(session.md_escape(str(exc)))
            else:
                done(t("admin.change.now_active" if account.disabled else "admin.change.now_off", lang,
                       name=account.username))
        with st.form("admin_roles_form"):
            roles = st.multiselect(t("admin.roles", lang), options=list(ROLES), default=list(account.roles),
                                   format_func=role_label, key=f"admin_roles_{account.username}")
            if st.form_submit_button(t("admin.change.save_roles", lang)):
                try:
                    accounts.set_roles(db, user, account.username, roles)
                except accounts.AccountError as exc:
                    st.error(session.md_escape(str(exc)))
                else:
                    done(t("admin.change.roles_saved", lang, name=account.username))
        with st.form("admin_reset_form", clear_on_submit=True):
            kind = st.radio(t("admin.reset.kind", lang), options=["password", "pin"], horizontal=True,
                            key="admin_reset_kind", index=0 if account.secret_kind == "password" else 1,
                            format_func=lambda k: t(f"admin.reset.kind.{k}", lang))
            secret = st.text_input(t("admin.reset.secret", lang), type="password", key="admin_reset_secret")
            if st.form_submit_button(t("admin.reset.button", lang)):
                try:
                    accounts.reset_secret(db, user, account.username, secret, kind=kind)
                except accounts.AccountError as exc:
                    st.error(session.md_escape(str(exc)))
                else:
                    done(kind_done("admin.reset.done", kind, account.username))
        # browsers kept signed in by a cookie (data/sessions.py): a lost tablet is signed out from here
        live = sessions.list_active(db, user, account.username,
                                    idle_seconds=session.idle_timeout_seconds(db))
        st.markdown(f"**{t('admin.sessions.heading', lang)}** ({len(live)})")
        if live:
            st.dataframe(pd.DataFrame([{t("admin.sessions.col.browser", lang): s.user_agent or t("admin.sessions.unknown", lang),
                                        t("admin.sessions.col.since", lang): utc_minute(s.created_at),
                                        t("admin.sessions.col.last_seen", lang): utc_minute(s.last_seen)} for s in live]),
                         hide_index=True)
            if st.button(t("admin.sessions.revoke", lang), key="admin_revoke_sessions", width="stretch"):
                count = sessions.admin_revoke(db, user, username=account.username)
                done(t("admin.sessions.revoked", lang, count=count, name=account.username))
        else:
            st.caption(t("admin.sessions.none", lang))

# --- settings ------------------------------------------------------------------------------------------------------
with settings_tab:
    with st.form("admin_settings_form"):
        procedure = st.text_area(
            session.md_escape(t("admin.settings.procedure", lang)),
            value=settings.get(db, "safeguarding_procedure"), height=220, key="admin_procedure")
        area = st.text_input(session.md_escape(t("admin.settings.area", lang)),
                             value=settings.get(db, "area_name"), key="admin_area")
        idle = st.number_input(t("admin.settings.idle", lang), min_value=1, max_value=24 * 60, step=1,
                               value=settings.get_int(db, "idle_timeout_minutes"), key="admin_idle")
        days = st.number_input(t("admin.settings.retention", lang), min_value=0,
                               max_value=36500, step=30, value=settings.get_int(db, "retention_days"),
                               key="admin_retention_days")
        overdue = st.number_input(t("admin.settings.overdue", lang),
                                  min_value=1, max_value=24 * 30, step=1,
                                  value=settings.get_int(db, "flag_overdue_hours"), key="admin_flag_overdue_hours")
        if st.form_submit_button(t("admin.settings.save", lang), type="primary"):
            changes = {"safeguarding_procedure": procedure, "area_name": area, "idle_timeout_minutes": str(int(idle)),
                       "retention_days": str(int(days)), "flag_overdue_hours": str(int(overdue))}
            try:
                for key, value in changes.items():
                    if value != settings.get(db, key):
                        settings.put(db, user, key, value)
            except settings.SettingError as exc:
                st.error(session.md_escape(str(exc)))
            else:
                done(t("admin.settings.saved", lang))

# --- erasure -------------------------------------------------------------------------------------------------------
with erase_tab:
    st.write(t("admin.erase.intro", lang))
    ref = st.text_input(session.md_escape(t("admin.erase.reference", lang)), key="admin_erase_ref")
    event_names = {"": t("admin.erase.any_event", lang)} | {e.id: e.title for e in list_events(db)}
    event_id = st.selectbox(session.md_escape(t("admin.erase.event", lang)), options=list(event_names),
                            format_func=event_names.get, key="admin_erase_event")
    if st.button(t("admin.erase.find", lang), key="admin_erase_find"):
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
        found = {"respondent": session.md_escape(target), "answers": counts["answers"], "codings": counts["codings"],
                 "flags": counts["flags"]}
        if card:  # the card's reference in bold, wherever the language puts it in the sentence
            before, _, after = t("admin.erase.found_card", lang).partition("{card}")
            st.warning(f"{before.format(**found)}**{card}**{after.format(**found)}")
        else:
            st.warning(t("admin.erase.found", lang, **found))
        with st.form("admin_erase_form"):
            reason = st.text_input(session.md_escape(t("admin.erase.reason", lang)), key="admin_erase_reason")
            sure = st.checkbox(t("admin.erase.sure", lang), key="admin_erase_sure")
            if st.form_submit_button(t("admin.erase.button", lang), type="primary"):
                if not sure:
                    st.error(t("admin.erase.tick", lang))
                else:
                    try:
                        result = erasure.erase_respondent(db, user, target, reason)
                    except erasure.ErasureError as exc:
                        st.error(session.md_escape(str(exc)))
                    else:
                        st.session_state["admin_erase_target"] = None
                        done(result.summary())
    with st.expander(t("admin.erase.tombstones", lang)):
        tombstones = pd.DataFrame(erasure.tombstones(db, user, limit=100))
        st.dataframe(tombstones.rename(columns={c: t(f"admin.tombstones.col.{c}", lang) for c in tombstones.columns}),
                     hide_index=True)

# --- retention -----------------------------------------------------------------------------------------------------
with retention_tab:
    status = retention.status(db, user)
    if not status.days:
        st.info(t("admin.retention.off", lang))
    else:
        st.write(t("admin.retention.on", lang, cutoff=status.cutoff[:10], days=status.days))
    a, b, c = st.columns(3)
    a.metric(t("admin.retention.due", lang), status.due)
    b.metric(t("admin.retention.held", lang), status.held)
    c.metric(t("admin.retention.purged", lang), status.purged)
    if st.button(t("admin.retention.apply", lang), key="admin_retention_apply", disabled=status.due == 0,
                 type="primary"):
        purged = retention.apply(db, user)
        done(t("admin.retention.done", lang, count=purged))

# --- bundles (several laptops, one hub) ----------------------------------------------------------------------------
with bundle_tab:
    if not user.can("bundle"):
        st.info(t("admin.bundle.admins_only", lang))
    else:
        st.write(t("admin.bundle.intro", lang))
        all_events = list_events(db)
        titles = {e.id: e.title for e in all_events}
        chosen = st.multiselect(session.md_escape(t("admin.bundle.events", lang)), options=list(titles),
                                format_func=titles.get, key="admin_bundle_events")
        if st.button(t("admin.bundle.prepare", lang), key="admin_bundle_prepare", disabled=not all_events):
            buffer = io.BytesIO()
            manifest = bundle.export_bundle(db, user, buffer, chosen or None)
            st.session_state["admin_bundle_file"] = (bundle.bundle_filename(), buffer.getvalue(),
                                                     manifest["counts"]["responses"])
        prepared = st.session_state["admin_bundle_file"]
        if prepared:
            st.download_button(t("admin.bundle.download", lang, file=prepared[0], answers=f"{prepared[2]:,}"),
                               data=prepared[1],
                               file_name=prepared[0], mime="application/zip", key="admin_bundle_download")
        st.subheader(t("admin.bundle.import_heading", lang))
        upload = st.file_uploader(t("admin.bundle.upload", lang), type=["zip"],
                                  key="admin_bundle_upload")
        if upload is not None:
            data = upload.getvalue()
            digest = hashlib.sha256(data).hexdigest()
            if st.button(t("admin.bundle.preview", lang), key="admin_bundle_preview_button"):
                try:
                    st.session_state["admin_bundle_preview"] = (digest, bundle.import_bundle(db, user, data,
                                                                                             dry_run=True))
                except bundle.BundleError as exc:
                    st.session_state["admin_bundle_preview"] = None
                    st.error(session.md_escape(str(exc)))
            shown = st.session_state["admin_bundle_preview"]
            if shown and shown[0] == digest:
                preview = shown[1]
                st.dataframe(pd.DataFrame([{
                    t("admin.bundle.col.records", lang): table, t("admin.bundle.col.new", lang): c.new,
                    t("admin.bundle.col.present", lang): c.present, t("admin.bundle.col.conflicting", lang): c.conflicts,
                    t("admin.bundle.col.merged", lang): c.updated, t("admin.bundle.col.erased", lang): c.erased}
                    for table, c in preview.tables.items()]), hide_index=True)
                if preview.open_flags_arrived:
                    st.warning(t("admin.bundle.open_flags", lang, count=preview.open_flags_arrived))
                st.text(preview.summary())
                if st.button(t("admin.bundle.import", lang), type="primary", key="admin_bundle_import"):
                    try:
                        report = bundle.import_bundle(db, user, data)
                    except bundle.BundleError as exc:
                        st.error(session.md_escape(str(exc)))
                    else:
                        st.session_state["admin_bundle_preview"] = None
                        done(report.summary())

        st.subheader(t("admin.conflicts.heading", lang))
        open_conflicts = bundle.conflicts(db, user)
        if not open_conflicts:
            st.caption(t("admin.conflicts.none", lang))
        else:
            st.caption(t("admin.conflicts.intro", lang))
            st.dataframe(pd.DataFrame([{
                t("admin.conflicts.col.conflict", lang): c["id"], t("admin.conflicts.col.records", lang): c["table_name"],
                t("admin.conflicts.col.record", lang): c["record_id"], t("admin.conflicts.col.reason", lang): c["reason"],
                t("admin.conflicts.col.found", lang): utc_minute(c["found_at"]),
                t("admin.conflicts.col.by", lang): c["found_by"] or ""} for c in open_conflicts]), hide_index=True)
            by_id = {c["id"]: c for c in open_conflicts}
            picked = st.selectbox(t("admin.conflicts.choose", lang), options=list(by_id), key="admin_conflict_chosen",
                                  format_func=lambda i: f"{i}: {by_id[i]['table_name']} {by_id[i]['record_id']}")
            conflict = by_id[picked]
            incoming = json.loads(conflict["incoming"])
            local = json.loads(conflict["local"]) if conflict["local"] else {}

            def shown(value) -> str:
                return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)

            fields = [k for k in dict.fromkeys([*local, *incoming]) if local.get(k) != incoming.get(k)]
            columns = [t(f"admin.conflicts.col.{c}", lang) for c in ("field", "here", "incoming")]
            st.dataframe(pd.DataFrame([(k, shown(local.get(k)) if local else t("admin.conflicts.nothing_here", lang),
                                        shown(incoming.get(k))) for k in fields], columns=columns), hide_index=True)
            if not bundle.RESOLVABLE_FIELDS.get(conflict["table_name"]):
                st.text(t("admin.conflicts.keep_local_only", lang))
            with st.form("admin_conflict_form"):
                keep = st.radio(t("admin.conflicts.keep", lang), options=list(bundle.RESOLUTIONS), horizontal=True,
                                key="admin_conflict_keep", format_func=lambda k: t(f"admin.conflicts.keep.{k}", lang))
                note = st.text_input(session.md_escape(t("admin.conflicts.note", lang)), key="admin_conflict_note")
                if st.form_submit_button(t("admin.conflicts.resolve", lang), type="primary"):
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
        action = st.selectbox(t("admin.audit.action", lang), options=options,
                              format_func=lambda a: a or t("admin.audit.all", lang), key="admin_audit_action")
        limit = st.number_input(t("admin.audit.rows", lang), min_value=10, max_value=10_000, value=500, step=100, key="admin_audit_limit")
        rows = audit.entries(db, user, limit=int(limit), action=action or None)
        st.dataframe(
            pd.DataFrame([(r["at"][:19].replace("T", " "), r["actor"] or "", r["action"],
                           " ".join(filter(None, [r["target_type"], r["target_id"]])),
                           json.dumps(r["detail"], ensure_ascii=False)) for r in rows],
                         columns=[t(f"admin.audit.col.{c}", lang) for c in ("when", "who", "action", "what", "detail")]),
            hide_index=True,
        )
        st.caption(t("admin.audit.caption", lang))
    else:
        st.info(t("admin.audit.admins_only", lang))
