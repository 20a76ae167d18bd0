"""The audit log: append-only (the database refuses UPDATE and DELETE), entries for sign-ins, settings, exports,
readable by admins only; the export helper other modules call checks the permission for originals."""

from __future__ import annotations

import json
import sqlite3

import pytest

from data import accounts, audit, settings
from data.users import PermissionDenied


def test_audit_rows_cannot_be_changed_or_deleted(db, admin):
    settings.put(db, admin, "area_name", "Dudley")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        db.execute("UPDATE audit SET actor = 'someone else'")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        db.execute("DELETE FROM audit")
    assert [r["actor"] for r in audit.entries(db, admin)] == ["ada_admin"]


def test_entries_newest_first_filtered_and_admins_only(db, admin, lead, safeguarding_lead, officer):
    accounts.create_user(db, None, "boss", "password-123456", ["admin"])
    with pytest.raises(accounts.SignInError):
        accounts.sign_in(db, "boss", "wrong-wrong-wrong")
    accounts.sign_in(db, "boss", "password-123456")
    rows = audit.entries(db, admin)
    assert [r["action"] for r in rows] == ["signed_in", "sign_in_failed", "user_created"]
    assert rows[1]["detail"]["why"] == "wrong secret"
    assert [r["action"] for r in audit.entries(db, admin, action="signed_in")] == ["signed_in"]
    assert set(audit.actions(db, admin)) == {"signed_in", "sign_in_failed", "user_created"}
    for user in (lead, safeguarding_lead, officer):
        with pytest.raises(PermissionDenied):
            audit.entries(db, user)
        with pytest.raises(PermissionDenied):
            audit.actions(db, user)


def test_record_export_checks_permission_and_writes_who_what_originals(db, admin, lead, researcher):
    audit.record_export(db, lead, "xlsx", filename="findings.xlsx", rows=120, question="thrive_helps")
    with pytest.raises(PermissionDenied):
        audit.record_export(db, lead, "xlsx", with_originals=True)
    with pytest.raises(PermissionDenied):
        audit.record_export(db, researcher, "csv")
    with pytest.raises(PermissionDenied):
        audit.authorize_export(lead, with_originals=True)
    assert audit.authorize_export(admin, with_originals=True) is admin
    audit.record_export(db, admin, "csv", with_originals=True, filename="originals.csv")
    rows = [(r[0], r[1], json.loads(r[2])) for r in db.execute(
        "SELECT actor, target_id, detail FROM audit WHERE action = 'export' ORDER BY id")]
    assert rows == [
        ("sam_lead", "xlsx", {"with_originals": False, "filename": "findings.xlsx", "rows": 120,
                              "question": "thrive_helps"}),
        ("ada_admin", "csv", {"with_originals": True, "filename": "originals.csv", "rows": None}),
    ]


def test_settings_changes_are_audited_without_their_values(db, admin):
    settings.put(db, admin, "safeguarding_procedure", "Call Jo on 0300 555 0000")
    (row,) = audit.entries(db, admin, action="setting_changed")
    assert row["target_id"] == "safeguarding_procedure" and "0300" not in json.dumps(row)
    assert settings.get(db, "safeguarding_procedure") == "Call Jo on 0300 555 0000"
