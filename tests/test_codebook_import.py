"""Codebook import that asks (issue 11, item 3): the plan lists new codes and every difference field by field,
re-parenting and blanking named; existing codes change only with update (risky changes only when accepted);
GUID before name; Taguette's CSV both ways; ATLAS.ti's nested names, sets and notes kept and reported."""

from __future__ import annotations

import json
import os
import re
import uuid
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from lxml import etree

from data import codebook as cb
from data import findings as df
from data.importer import InvalidFile
from exports import refi

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
ATLAS = SHARED / "fixtures" / "refi-qda" / "atlasti-TestProject.qdpx"
NS = {"c": refi.CODEBOOK_NS}


def needs_shared() -> None:
    if not ATLAS.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{ATLAS} is missing (the shared fixtures are required under CI)")
        pytest.skip(f"{ATLAS} is not here (../shared is absent)")


def our_qdc(db, lead) -> etree._Element:
    return etree.fromstring(refi.codebook_xml(df.load_frames(db, lead).codes))


def code_el(root, label: str):
    return next(el for el in root.iter(f"{{{refi.CODEBOOK_NS}}}Code") if el.get("name") == label)


def qualcoder_style(db, lead, *, keep_guids: bool) -> bytes:
    """Our codebook as another tool gives it back: poverty_money moved under physical_care with no description, and a
    theme's label replaced. Without our GUIDs (keep_guids=False) only the names (our labels) tie it to us."""
    root = our_qdc(db, lead)
    poverty = code_el(root, "Poverty and money worries")
    for desc in poverty.findall("c:Description", NS):
        poverty.remove(desc)
    code_el(root, "Physical care").append(poverty)
    code_el(root, "Family and relationships").set("name", "Protective factors")
    if not keep_guids:
        for el in root.iter(f"{{{refi.CODEBOOK_NS}}}Code"):
            el.set("guid", str(uuid.uuid4()).upper())
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def snapshot(db) -> list[tuple]:
    return [tuple(r) for r in db.execute("SELECT * FROM codes ORDER BY id").fetchall()]


@pytest.fixture
def starter(db, officer):
    cb.load_starter_codebook(db, officer)
    return db


def test_reparent_and_blank_change_nothing_without_update(starter, officer, lead):
    db = starter
    before = snapshot(db)
    plan = cb.plan_codebook_file(db, qualcoder_style(db, lead, keep_guids=True), "qualcoder.qdc")
    assert plan.new == [] and len(plan.differences) == 2 and len(plan.unchanged) == 47
    poverty = plan.difference("poverty_money")
    kinds = {c.field: c.kind for c in poverty.changes}
    assert kinds == {"parent": "reparent", "definition": "blank"}
    parent = next(c for c in poverty.changes if c.field == "parent")
    assert (parent.before, parent.after) == ("money_housing", "physical_care")
    thrive = plan.difference("family")
    assert [(c.field, c.before, c.after, c.kind) for c in thrive.changes] == [
        ("label", "Family and relationships", "Protective factors", "change")]
    assert poverty.matched_by == "guid"
    text = "\n".join(plan.lines())
    assert "RE-PARENTS: theme: 'money_housing' -> 'physical_care'" in text and "BLANKS definition" in text
    assert "poverty_money would move to another theme" in text and "poverty_money would lose its definition" in text

    result = cb.apply_codebook_import(db, officer, plan)
    assert result.created == [] and result.updated == [] and sorted(result.held) == ["family", "poverty_money"]
    assert snapshot(db) == before
    entry = db.execute("SELECT detail FROM audit WHERE action = 'codebook_imported' ORDER BY id DESC").fetchone()[0]
    assert json.loads(entry)["left_unchanged"]["poverty_money"] == ["definition", "parent"]


def test_without_guids_names_match_and_a_relabelled_theme_is_shown_as_new(starter, officer, lead):
    db = starter
    before = {c.name: (c.parent, c.definition) for c in cb.list_codes(db)}
    plan = cb.plan_codebook_file(db, qualcoder_style(db, lead, keep_guids=False), "qualcoder.qdc")
    poverty = plan.difference("poverty_money")
    assert poverty.matched_by == "label"  # "Poverty and money worries" is our label: matched by name alone
    assert {c.field: c.kind for c in poverty.changes} == {"parent": "reparent", "definition": "blank"}
    # the theme whose label was replaced cannot be recognised without its GUID: it is a new code, and its
    # sub-codes would move under it, each listed as a re-parent
    assert [c.name for c in plan.new] == ["protective_factors"]
    moved = [d.name for d in plan.differences if d.name != "poverty_money"]
    assert len(moved) == 5 and all(d.changes[0].after == "protective_factors" for d in plan.differences
                                   if d.name in moved)
    result = cb.apply_codebook_import(db, officer, plan, update=True)
    assert result.created == ["protective_factors"] and result.updated == []
    assert {c.name: (c.parent, c.definition) for c in cb.list_codes(db) if c.name in before} == before


def test_update_applies_plain_changes_and_accept_only_the_accepted(starter, officer, lead):
    db = starter
    data = qualcoder_style(db, lead, keep_guids=True)
    definition = cb.get_code(db, "poverty_money").definition
    # --update alone: the label, not the move or the blanking
    result = cb.apply_codebook_import(db, officer, cb.plan_codebook_file(db, data, "q.qdc"), update=True)
    assert result.updated == ["family"] and result.held == ["poverty_money"]
    assert cb.get_code(db, "family").label == "Protective factors"
    poverty = cb.get_code(db, "poverty_money")
    assert (poverty.parent, poverty.definition) == ("money_housing", definition)
    # accepting poverty_money applies its every difference and nothing else
    cb.update_code(db, officer, "family", label="Family and relationships")
    result = cb.apply_codebook_import(db, officer, cb.plan_codebook_file(db, data, "q.qdc"), update=True,
                                      accept={"poverty_money"})
    assert result.updated == ["poverty_money"] and result.held == ["family"]
    poverty = cb.get_code(db, "poverty_money")
    assert (poverty.parent, poverty.definition) == ("physical_care", "")
    assert cb.get_code(db, "family").label == "Family and relationships"
    detail = json.loads(db.execute("SELECT detail FROM audit WHERE action = 'codebook_imported' ORDER BY id DESC"
                                   ).fetchone()[0])
    assert detail["updated"]["poverty_money"]["parent"] == ["money_housing", "physical_care"]
    with pytest.raises(cb.CodebookError, match="Nothing to accept for nosuch"):
        cb.apply_codebook_import(db, officer, cb.plan_codebook_file(db, data, "q.qdc"), update=True,
                                 accept={"nosuch"})


def test_a_plan_is_refused_if_the_code_changed_since(starter, officer, lead):
    db = starter
    plan = cb.plan_codebook_file(db, qualcoder_style(db, lead, keep_guids=True), "q.qdc")
    cb.update_code(db, officer, "family", label="Edited meanwhile")
    with pytest.raises(cb.CodebookError, match="edited since"):
        cb.apply_codebook_import(db, officer, plan, update=True)
    assert cb.get_code(db, "family").label == "Edited meanwhile"


def test_guid_match_wins_over_name(db, officer):
    a = cb.create_code(db, officer, "alpha", "Alpha", definition="first")
    cb.create_code(db, officer, "beta", "Beta", definition="second")
    # the file calls a's GUID "beta": it is alpha (renamed elsewhere), not our beta
    specs = [{"code": "beta", "label": "Alpha", "definition": "changed", "guid": "{" + a.guid.upper() + "}"}]
    plan = cb.plan_codebook_import(db, specs)
    assert plan.new == [] and [d.name for d in plan.differences] == ["alpha"]
    assert plan.differences[0].matched_by == "guid"
    assert [(c.field, c.after) for c in plan.differences[0].changes] == [("definition", "changed")]


def test_guids_are_stable_new_and_kept_on_rename(db, officer):
    code = cb.create_code(db, officer, "family", "Family")
    assert code.guid == refi.code_guid("family") == cb.name_guid("family")  # what exports always gave it
    renamed = cb.rename_code(db, officer, "family", "family_home")
    assert renamed.guid == code.guid
    again = cb.create_code(db, officer, "family", "Family again")
    assert again.guid != code.guid and uuid.UUID(again.guid)
    # the export writes the stored GUIDs, and a .qdc made before the rename still finds the renamed code
    from tests.conftest import make_user

    lead = make_user("strategy_lead")
    xml = our_qdc(db, lead)
    guids = {el.get("name"): el.get("guid") for el in xml.iter(f"{{{refi.CODEBOOK_NS}}}Code")}
    assert guids == {"Family": code.guid, "Family again": again.guid}
    old_export = [{"code": "family", "label": "Family", "guid": code.guid}]
    plan = cb.plan_codebook_import(db, old_export)
    assert plan.new == [] and plan.unchanged == ["family_home"]


def test_migration_guid_matches_the_export_guid(tmp_path):
    from sqlite_utils import Database

    from data.schema import migrations

    db = Database(tmp_path / "old.db")
    migrations.apply(db, stop_before="0014_code_guid")
    db.execute("INSERT INTO codes (name, label, created_at, updated_at) VALUES ('Poverty_Money', 'P', '', '')")
    migrations.apply(db)
    stored = db.execute("SELECT guid FROM codes").fetchone()[0]
    assert stored == refi.code_guid("Poverty_Money")
    with pytest.raises(Exception, match="UNIQUE"):
        db.execute("INSERT INTO codes (name, label, created_at, updated_at, guid) VALUES ('x', 'X', '', '', ?)",
                   [stored])


def test_name_matching_normalises_short_names(db, officer):
    cb.create_code(db, officer, "family_home", "Home life")
    plan = cb.plan_codebook_import(db, [{"code": "Family & home", "label": "Home life"}])
    assert plan.new == [] and plan.unchanged == ["family_home"]


def test_new_codes_are_created_even_without_update(db, officer):
    cb.create_code(db, officer, "thrive", "Thrive")
    result = cb.import_codes(db, officer, [{"code": "friends", "label": "Friends", "parent": "thrive"},
                                           {"code": "thrive", "label": "Thrive"}])
    assert result.created == ["friends"] and result.unchanged == ["thrive"]
    assert cb.get_code(db, "friends").parent == "thrive"


def test_taguette_round_trip_creates_nothing_and_strips_nothing(starter, officer):
    db = starter
    cb.update_code(db, officer, "poverty_money", colour="#112233", include_guidance="money", examples=["skint"])
    before = snapshot(db)
    exported = cb.export_codebook_taguette(db)
    header, *rows = exported.decode("utf-8").splitlines()
    assert header == "tag,parent,description"  # Taguette's own codebook export's columns
    assert rows[0].startswith("being_listened,,")
    plan = cb.plan_codebook_file(db, exported, "taguette.csv")
    assert plan.format == "taguette" and plan.new == [] and plan.differences == [] and len(plan.unchanged) == 49
    result = cb.apply_codebook_import(db, officer, plan, update=True)
    assert result.created == [] and result.updated == []
    assert snapshot(db) == before
    # older Taguette writes tag,description,number of highlights (no parent): still nothing changes
    old = "tag,description,number of highlights\n" + "".join(
        f'{c.name},"{c.definition}",3\n' for c in cb.list_codes(db))
    plan = cb.plan_codebook_file(db, old.encode(), "tags.csv")
    assert plan.new == [] and plan.differences == []


def test_taguette_csv_with_new_and_edited_tags(starter, officer):
    db = starter
    data = (b"tag,description,number of highlights\n"
            b"poverty_money,,4\n"
            b"Food banks,Where families get food,2\n")
    plan = cb.plan_codebook_file(db, data, "tags.csv")
    assert [(c.name, c.label, c.definition) for c in plan.new] == [("food_banks", "Food banks",
                                                                    "Where families get food")]
    assert [(c.field, c.kind) for c in plan.difference("poverty_money").changes] == [("definition", "blank")]
    with pytest.raises(InvalidFile, match="every tag needs a name"):
        cb.read_taguette_csv(b"tag,description\n,orphan\n")
    with pytest.raises(InvalidFile, match="exactly one of the columns"):
        cb.read_taguette_csv(b"tag,name\nx,y\n")


def test_new_codes_that_break_two_levels_refuse_the_file(db, officer):
    cb.create_code(db, officer, "thrive", "Thrive")
    cb.create_code(db, officer, "family", "Family", parent="thrive")
    with pytest.raises(InvalidFile) as caught:
        cb.plan_codebook_import(db, [{"code": "mum", "label": "Mum", "parent": "family"}])
    assert "two levels" in str(caught.value)
    # an existing code moved under a sub-code is listed as impossible, never applied
    plan = cb.plan_codebook_import(db, [{"code": "thrive", "label": "Thrive", "parent": "family"}])
    change = plan.difference("thrive").changes[0]
    assert change.kind == "reparent" and change.problem
    result = cb.apply_codebook_import(db, officer, plan, update=True, accept={"thrive"})
    assert result.updated == [] and cb.get_code(db, "thrive").parent is None


def atlas_codebook() -> bytes:
    needs_shared()
    with zipfile.ZipFile(ATLAS) as zf:
        return zf.read(next(n for n in zf.namelist() if n.lower() == "project.qde"))


def test_atlasti_codebook_keeps_paths_sets_and_notes():
    parsed = refi.read_qdc(atlas_codebook())
    by_label = {s["label"]: s for s in parsed.specs}
    diet = by_label["diet Coke"]
    assert diet["parent"] == by_label["Coke"]["code"] == "coke"  # Coke::diet Coke keeps its chain
    assert diet["definition"].startswith("non sucré")
    assert "Coke::diet Coke" in " ".join(parsed.notes)
    # code sets: every code set is kept on its members and named in the notes; document sets are named too
    assert set(parsed.sets) == {"Feelings", "negative feelings", "positive feelings", "Breakfast food"}
    assert "Sets: Feelings; negative feelings; positive feelings" in by_label["sleepy"]["definition"]
    assert "Breakfast food" in diet["definition"]
    text = " ".join(parsed.notes)
    assert "11 set(s) group documents" in text and "1 empty set(s) (<3)" in text
    assert "Research Plan" in text and "My favorite Coke ad" in text  # project notes reported, not dropped
    assert by_label["Breakfast food"]["definition"].startswith("the foods people might eat for breakfast")


def test_atlasti_qdpx_imports_then_reimports_unchanged(db, officer):
    needs_shared()
    data = ATLAS.read_bytes()
    result = cb.apply_codebook_import(db, officer, cb.plan_codebook_file(db, data, ATLAS.name))
    assert len(result.created) == 14 and cb.get_code(db, "diet_coke").parent == "coke"
    assert cb.get_code(db, "diet_coke").guid == "D299EFAE-5779-46DC-9827-A3D1A5D544BC"  # kept as ATLAS.ti wrote it
    again = cb.plan_codebook_file(db, data, ATLAS.name)
    assert again.new == [] and again.differences == [] and len(again.unchanged) == 14


def test_deep_nesting_keeps_its_path():
    xml = b"""<CodeBook xmlns="urn:QDA-XML:codebook:1.0"><Codes>
      <Code guid="1" name="A" isCodable="true"><Code guid="2" name="B" isCodable="true">
        <Code guid="3" name="C" isCodable="true"><Description>deep</Description>
          <Code guid="4" name="D" isCodable="true"/></Code></Code></Code>
      <Code guid="5" name="X::Y::Z" isCodable="true"/></Codes></CodeBook>"""
    parsed = refi.read_qdc(xml)
    by = {s["code"]: s for s in parsed.specs}
    assert by["c"]["parent"] == "a" and by["c"]["definition"] == "deep\n\nPath: A > B > C"
    assert by["d"]["parent"] == "a" and by["d"]["definition"].endswith("Path: A > B > C > D")
    assert by["z"]["parent"] == "x" and "Path: X::Y::Z" in by["z"]["definition"]
    assert by["x"]["label"] == "X"  # named only in a path: created as a theme, and reported
    notes = " ".join(parsed.notes)
    assert "'A > B > C > D' is 4 levels deep" in notes and "'X' is named only in the path" in notes


def run_cli(*args: str):
    from cli import cli

    return CliRunner().invoke(cli, list(args))


def test_cli_prints_the_plan_and_updates_only_when_asked(db_path, starter, officer, lead, tmp_path):
    db = starter
    qdc = tmp_path / "qualcoder.qdc"
    qdc.write_bytes(qualcoder_style(db, lead, keep_guids=True))
    db.conn.close()
    out = run_cli("codebook", "import", str(qdc), "--db", str(db_path))
    assert out.exit_code == 0, out.output
    assert "0 new code(s), 47 unchanged, 2 existing code(s)" in out.output
    assert "RE-PARENTS: theme: 'money_housing' -> 'physical_care'" in out.output
    assert "! poverty_money would lose its definition" in out.output
    assert re.search(r"label: 'Family and relationships' -> 'Protective factors'", out.output)
    assert "Applied: 0 code(s) created, 0 updated" in out.output and "repeat with --update" in out.output
    out = run_cli("codebook", "import-qdc", str(qdc), "--update", "--db", str(db_path))
    assert "0 code(s) created, 1 updated" in out.output and "--accept CODE" in out.output
    out = run_cli("codebook", "import", str(qdc), "--accept", "poverty_money", "--db", str(db_path))
    assert "0 code(s) created, 1 updated" in out.output
    tag = tmp_path / "taguette.csv"
    out = run_cli("codebook", "export", str(tag), "--format", "taguette", "--db", str(db_path))
    assert out.exit_code == 0 and "Wrote 49 code(s)" in out.output and "Taguette" in out.output
    out = run_cli("codebook", "import", str(tag), "--db", str(db_path))
    assert "0 new code(s), 49 unchanged, 0 existing" in out.output
    bad = tmp_path / "bad.qdc"
    bad.write_bytes(b"<CodeBook")
    out = run_cli("codebook", "import", str(bad), "--db", str(db_path))
    assert out.exit_code == 1 and "not a readable XML file" in out.output
