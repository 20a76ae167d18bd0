"""The safeguarding queue: triage order (urgency, then age), filters, overdue flags, "new since you last looked",
status changes with notes, release of a flagged answer, never deleted, the role check on raising a flag, and
`cli.py safeguarding list --json` / `release`."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from click.testing import CliRunner

from data import flags, settings
from data.capture import flag_respondent, save_respondent
from data.db import now_utc
from data.flags import FlagError
from data.users import PERMISSIONS, ROLES, PermissionDenied, User, cli_user

DISCLOSURE = "my dad hits me when he's drunk"
MILD = "mum always on her phone"


def _save(db, user, event, answers, **kw):
    return save_respondent(db, user, event_id=event.id, group_id="young_person", consent=True, answers=answers, **kw)


def _ago(hours: float) -> str:
    return (dt.datetime.now(dt.UTC) - dt.timedelta(hours=hours)).isoformat(timespec="microseconds")


def _age(db, flag_id: str, hours: float) -> None:
    db.execute("UPDATE flags SET created_at = ?, updated_at = ? WHERE id = ?", [_ago(hours), _ago(hours), flag_id])


def _withheld(db, response_id: str) -> bool:
    return bool(db.execute(f"SELECT {flags.withheld_sql('r')} FROM responses r WHERE r.id = ?",
                           [response_id]).fetchone()[0])


@pytest.fixture
def flagged(db, researcher, event):
    first = _save(db, researcher, event, {"thrive_helps": ["my mates", DISCLOSURE], "neglect_is": "call 07700 900123"})
    second = _save(db, researcher, event, {"thrive_helps": "youth club"}, worried=True, worried_note="seemed scared")
    return first, second


@pytest.fixture
def mixed(db, researcher, event, safeguarding_lead):
    """Flags of every tier and status, raised in an order unlike the triage order, with chosen ages (hours)."""
    def auto(name, category, strength, hours, status=None):
        flag = flags.raise_flag(db, researcher, kind="auto", reason=f"possible disclosure: {name}",
                                event_id=event.id, category=category, strength=strength)
        _age(db, flag.id, hours)
        if status:
            flags.set_status(db, safeguarding_lead, flag.id, status, "looked at it")
        return name, flag.id

    made = dict([
        auto("mild_oldest", "personal", "possible", 90),
        auto("hit_newest", "physical", "strong", 1),
        auto("self_harm_possible", "self_harm", "possible", 5),
        auto("left_alone_strong", "left_alone", "strong", 50),
        auto("hit_older", "physical", "strong", 30),
        auto("reviewed_urgent", "sexual", "strong", 100, status="reviewed"),
        auto("closed_urgent", "exploitation", "strong", 200, status="referred"),
        auto("emotional_possible", "emotional", "possible", 3),
    ])
    manual = flags.raise_flag(db, researcher, kind="manual", reason="Peer researcher is worried about a person",
                              event_id=event.id)
    _age(db, manual.id, 10)
    made["manual"] = manual.id
    return made


def test_queue_sorts_by_urgency_then_oldest_first(db, safeguarding_lead, mixed):
    order = {v: k for k, v in mixed.items()}
    items = flags.queue(db, safeguarding_lead)
    assert [order[i.id] for i in items] == [
        "hit_older", "manual", "hit_newest",            # immediate risk, strong, or judged by a person: oldest first
        "self_harm_possible",                           # immediate-risk category, possible evidence
        "left_alone_strong",                            # other category, strong
        "mild_oldest", "emotional_possible",            # other category, possible: oldest first
        "reviewed_urgent",                              # reviewed after every open flag
        "closed_urgent",                                # closed last
    ]
    by_name = {order[i.id]: i for i in items}
    assert [by_name[n].urgency for n in ("hit_older", "manual", "self_harm_possible", "left_alone_strong",
                                         "mild_oldest")] == [0, 0, 1, 2, 3]
    assert by_name["manual"].category_label.startswith("raised by hand") and by_name["manual"].strength is None
    assert by_name["hit_older"].category == "physical" and by_name["hit_older"].strength == "strong"
    assert by_name["hit_older"].urgency_label == "Immediate risk"


def test_a_real_disclosure_outranks_a_mild_one_raised_earlier(db, researcher, event, safeguarding_lead):
    mild = _save(db, researcher, event, {"thrive_helps": MILD}).flags[0]
    _age(db, mild.id, 48)  # older, so "oldest first" alone would put it on top
    hit = _save(db, researcher, event, {"thrive_helps": DISCLOSURE}).flags[0]
    assert (mild.category, mild.strength) == ("personal", "possible")
    assert (hit.category, hit.strength) == ("physical", "strong")
    assert [i.id for i in flags.queue(db, safeguarding_lead)] == [hit.id, mild.id]


def test_flags_from_before_categories_were_stored_are_triaged_from_their_reason(db, researcher, event,
                                                                                 safeguarding_lead):
    hit = _save(db, researcher, event, {"thrive_helps": DISCLOSURE}).flags[0]
    mild = _save(db, researcher, event, {"thrive_helps": MILD}).flags[0]
    polish = flags.raise_flag(db, researcher, kind="auto", event_id=event.id,
                              reason="possible disclosure (being hit or hurt, in Polish): “bije mnie”")
    odd = flags.raise_flag(db, researcher, kind="auto", event_id=event.id, reason="something we cannot read")
    db.execute("UPDATE flags SET category = NULL, strength = NULL")  # as migration 0008 left older flags
    _age(db, mild.id, 72)
    items = {i.id: i for i in flags.queue(db, safeguarding_lead)}
    assert items[hit.id].category == "physical" and items[hit.id].urgency == 0
    assert items[polish.id].category == "physical"
    assert items[mild.id].category == "personal" and items[mild.id].urgency == 3
    assert items[odd.id].category is None and items[odd.id].urgency == 0  # unknown: a person must read it first
    assert items[hit.id].strength_label == "strength not recorded"
    assert [i.id for i in flags.queue(db, safeguarding_lead, categories="physical")] == [hit.id, polish.id]
    assert [i.id for i in flags.queue(db, safeguarding_lead, strengths="possible")] == [mild.id]


def test_filters_by_status_event_category_and_strength(db, admin, researcher, event, safeguarding_lead, mixed):
    from data.events import create_event

    other = create_event(db, admin, name="Market day", date="2026-12-05")
    elsewhere = flags.raise_flag(db, researcher, kind="auto", reason="possible disclosure: elsewhere",
                                 event_id=other.id, category="physical", strength="possible")
    order = {v: k for k, v in mixed.items()} | {elsewhere.id: "elsewhere"}

    def names(**filters):
        return [order[i.id] for i in flags.queue(db, safeguarding_lead, **filters)]

    assert names(statuses=["reviewed", "referred"]) == ["reviewed_urgent", "closed_urgent"]
    assert names(event_id=other.id) == ["elsewhere"]
    assert "elsewhere" not in names(event_id=event.id) and len(names(event_id=event.id)) == len(mixed)
    assert names(categories=["physical"], statuses=["open"]) == ["hit_older", "hit_newest", "elsewhere"]
    assert names(categories=[flags.MANUAL, "left_alone"]) == ["manual", "left_alone_strong"]
    assert names(strengths=["possible"]) == ["self_harm_possible", "elsewhere", "mild_oldest", "emotional_possible"]
    assert names(strengths="strong", categories="physical", event_id=event.id) == ["hit_older", "hit_newest"]
    assert names(statuses=["no_further_action"]) == []
    for bad in (dict(statuses=["deleted"]), dict(categories=["nonsense"]), dict(strengths=["certain"])):
        with pytest.raises(FlagError, match="Unknown"):
            flags.queue(db, safeguarding_lead, **bad)


def test_open_flags_older_than_the_setting_are_overdue(db, admin, safeguarding_lead, mixed):
    order = {i.id: i for i in flags.queue(db, safeguarding_lead)}
    overdue = {name for name, fid in mixed.items() if order[fid].overdue}
    # default 24 hours; reviewed and closed flags are not waiting for a first look
    assert overdue == {"mild_oldest", "left_alone_strong", "hit_older"}
    assert flags.overdue_count(db, safeguarding_lead) == 3
    settings.put(db, admin, flags.OVERDUE_SETTING, "4")
    order = {i.id: i for i in flags.queue(db, safeguarding_lead)}
    assert {name for name, fid in mixed.items() if order[fid].overdue} == {
        "mild_oldest", "left_alone_strong", "hit_older", "self_harm_possible", "manual"}
    with pytest.raises(settings.SettingError):
        settings.put(db, admin, flags.OVERDUE_SETTING, "0")
    with pytest.raises(PermissionDenied):
        flags.overdue_count(db, admin)


def test_new_since_this_lead_last_looked(db, researcher, event, safeguarding_lead):
    first = _save(db, researcher, event, {"thrive_helps": DISCLOSURE}).flags[0]
    assert flags.last_seen(db, safeguarding_lead) is None
    assert flags.mark_seen(db, safeguarding_lead) is None  # first visit: nothing before
    (item,) = flags.queue(db, safeguarding_lead, seen_before=None)
    assert item.new  # never looked before: everything is new to them
    seen = flags.last_seen(db, safeguarding_lead)
    assert seen is not None and seen >= first.created_at
    later = _save(db, researcher, event, {"thrive_helps": "i want to kill myself"}).flags[0]
    assert flags.mark_seen(db, safeguarding_lead) == seen  # returns the previous visit, records this one
    marks = {i.id: i.new for i in flags.queue(db, safeguarding_lead, seen_before=seen)}
    assert marks == {first.id: False, later.id: True}
    # per lead: another lead who never looked sees both as new, and their visit does not move this lead's
    other = User("sal_safeguarding", frozenset({"safeguarding_lead"}))
    assert flags.mark_seen(db, other) is None
    assert flags.last_seen(db, safeguarding_lead) > seen
    with pytest.raises(PermissionDenied):
        flags.mark_seen(db, researcher)
    assert db.execute("SELECT COUNT(*) FROM flag_queue_seen").fetchone()[0] == 2


def test_status_change_needs_a_note_and_is_kept_in_history(db, safeguarding_lead, flagged):
    flag_id = flagged[0].flags[0].id
    with pytest.raises(FlagError, match="note"):
        flags.set_status(db, safeguarding_lead, flag_id, "reviewed", "  ")
    with pytest.raises(FlagError, match="reason"):
        flags.set_status(db, safeguarding_lead, flag_id, "no_further_action", "")
    with pytest.raises(FlagError, match="Unknown status"):
        flags.set_status(db, safeguarding_lead, flag_id, "deleted", "gone")
    assert flags.get(db, safeguarding_lead, flag_id).status == "open"
    flags.set_status(db, safeguarding_lead, flag_id, "reviewed", "Spoke to the event lead")
    item = flags.set_status(db, safeguarding_lead, flag_id, "referred", "Referred to the MASH, ref 123")
    assert item.status == "referred"
    history = flags.history(db, safeguarding_lead, flag_id)
    assert [(h.status, h.by) for h in history] == [("open", "pia_researcher"), ("reviewed", "sue_safeguarding"),
                                                   ("referred", "sue_safeguarding")]
    assert history[-1].note == "Referred to the MASH, ref 123"
    audits = [json.loads(r[0]) for r in db.execute(
        "SELECT detail FROM audit WHERE action = 'flag_status_changed' AND target_id = ? ORDER BY id", [flag_id])]
    assert audits == [{"before": "open", "after": "reviewed"}, {"before": "reviewed", "after": "referred"}]
    assert flag_id not in [i.id for i in flags.queue(db, safeguarding_lead, statuses=["open"])]
    assert flags.counts(db, safeguarding_lead) == {"open": 1, "reviewed": 0, "referred": 1, "no_further_action": 0}


def test_queue_shows_original_text_and_the_persons_other_answers(db, safeguarding_lead, flagged):
    first, second = flagged
    items = {i.kind: i for i in flags.queue(db, safeguarding_lead)}
    auto, manual = items["auto"], items["manual"]
    assert auto.text == DISCLOSURE  # the original words, not the redacted text
    assert auto.response_id == first.flags[0].response_id
    assert auto.event == "Family centre drop-in" and auto.recorded_by == "pia_researcher"
    assert {a.text for a in auto.answers} == {"my mates", DISCLOSURE, "call 07700 900123"}
    assert [a.text for a in auto.answers if a.flagged] == [DISCLOSURE]
    # only the flagged answer is withheld by an answer-level flag; a manual flag withholds all the person's answers
    assert {a.text: a.withheld for a in auto.answers} == {"my mates": False, DISCLOSURE: True,
                                                          "call 07700 900123": False}
    assert manual.text == "youth club" and "seemed scared" in manual.reason
    assert [a.withheld for a in manual.answers] == [True]


def test_release_closes_the_flag_and_lets_the_answer_be_quoted(db, safeguarding_lead, flagged):
    flag = flagged[0].flags[0]
    assert _withheld(db, flag.response_id)
    with pytest.raises(FlagError, match="reason"):
        flags.release(db, safeguarding_lead, flag.id, "   ")
    assert flags.get(db, safeguarding_lead, flag.id).released_at is None
    item = flags.release(db, safeguarding_lead, flag.id, "Known to social care; quote agreed")
    assert item.status == "no_further_action" and item.released
    assert item.released_by == "sue_safeguarding" and item.released_at is not None
    assert not _withheld(db, flag.response_id) and item.withheld_by == []
    last = flags.history(db, safeguarding_lead, flag.id)[-1]
    assert (last.status, last.by) == ("no_further_action", "sue_safeguarding")
    assert last.note == flags.RELEASED_NOTE + "Known to social care; quote agreed"
    (detail,) = [json.loads(r[0]) for r in db.execute(
        "SELECT detail FROM audit WHERE action = 'flag_released' AND target_id = ?", [flag.id])]
    assert detail == {"before": "open", "after": "no_further_action"}
    with pytest.raises(FlagError, match="already released"):
        flags.release(db, safeguarding_lead, flag.id, "again")
    # and back: withheld again, the status kept
    item = flags.unrelease(db, safeguarding_lead, flag.id, "Family asked us not to")
    assert not item.released and item.status == "no_further_action" and _withheld(db, flag.response_id)
    with pytest.raises(FlagError, match="not released"):
        flags.unrelease(db, safeguarding_lead, flag.id, "again")
    with pytest.raises(FlagError, match="reason"):
        flags.unrelease(db, safeguarding_lead, flag.id, "")
    assert db.execute("SELECT COUNT(*) FROM audit WHERE action = 'flag_unreleased'").fetchone()[0] == 1


def test_release_keeps_a_referral_and_another_flag_still_withholds(db, researcher, event, safeguarding_lead):
    saved = _save(db, researcher, event, {"thrive_helps": DISCLOSURE}, worried=True, worried_note="bruises")
    auto, manual = sorted(saved.flags, key=lambda f: f.kind)  # "auto" < "manual"
    flags.set_status(db, safeguarding_lead, auto.id, "referred", "MASH ref 9")
    item = flags.release(db, safeguarding_lead, auto.id, "Quote agreed with the social worker")
    assert item.status == "referred"  # already closed: the referral stands
    assert item.withheld_by == [manual.id]  # the manual flag on the same person still withholds the answer
    assert _withheld(db, auto.response_id)
    item = flags.get(db, safeguarding_lead, manual.id)
    assert item.withheld_by == [] and item.status == "open"  # the released auto flag no longer counts
    flags.release(db, safeguarding_lead, manual.id, "Checked in person")
    assert not _withheld(db, auto.response_id)
    assert flags.get(db, safeguarding_lead, auto.id).withheld_by == []


def test_release_of_a_missing_flag(db, safeguarding_lead):
    with pytest.raises(FlagError, match="does not exist"):
        flags.release(db, safeguarding_lead, "no-such-flag", "fine")
    with pytest.raises(FlagError, match="does not exist"):
        flags.unrelease(db, safeguarding_lead, "no-such-flag", "fine")


def test_flags_are_never_deleted(db, flagged):
    import sqlite3

    with pytest.raises(sqlite3.DatabaseError, match="never deleted"):
        db.execute("DELETE FROM flags")
    assert db.execute("SELECT COUNT(*) FROM flags").fetchone()[0] == 2


@pytest.mark.parametrize("role_fixture", ["admin", "officer", "researcher", "lead"])
def test_only_safeguarding_leads_read_change_or_release(request, db, flagged, role_fixture, safeguarding_lead):
    user = request.getfixturevalue(role_fixture)
    flag_id = flagged[0].flags[0].id
    before = db.execute("SELECT * FROM flags ORDER BY id").fetchall()
    for call in (lambda: flags.queue(db, user), lambda: flags.get(db, user, flag_id),
                 lambda: flags.history(db, user, flag_id), lambda: flags.counts(db, user),
                 lambda: flags.open_flags_as_dicts(db, user), lambda: flags.overdue_count(db, user),
                 lambda: flags.flagged_events(db, user), lambda: flags.last_seen(db, user),
                 lambda: flags.set_status(db, user, flag_id, "no_further_action", "fine"),
                 lambda: flags.release(db, user, flag_id, "fine"), lambda: flags.unrelease(db, user, flag_id, "x")):
        with pytest.raises(PermissionDenied):
            call()
    assert db.execute("SELECT * FROM flags ORDER BY id").fetchall() == before


@pytest.mark.parametrize("user", [None, User("sam", frozenset({"strategy_lead"})), User("nobody", frozenset())],
                         ids=["nobody", "strategy_lead", "no_roles"])
def test_raising_a_flag_needs_the_role(db, event, user):
    with pytest.raises(PermissionDenied):
        flags.raise_flag(db, user, kind="manual", reason="worried", event_id=event.id)
    assert db.execute("SELECT COUNT(*) FROM flags").fetchone()[0] == 0
    assert db.execute("SELECT COUNT(*) FROM flag_history").fetchone()[0] == 0


def test_everyone_who_records_answers_may_raise_a_flag_and_the_cli_operator_too(db, event):
    # a save or import that finds a disclosure raises a flag in the same transaction: it must never be refused
    for permission in ("collect", "transcribe", "import"):
        assert PERMISSIONS[permission] <= PERMISSIONS["raise_flag"], permission
    assert "safeguarding_lead" in PERMISSIONS["raise_flag"] and "strategy_lead" not in PERMISSIONS["raise_flag"]
    flag = flags.raise_flag(db, cli_user(), kind="manual", reason="raised from the command line", event_id=event.id)
    assert flag.raised_by.startswith("cli:")
    for role in sorted(PERMISSIONS["raise_flag"]):
        flags.raise_flag(db, User(role, frozenset({role})), kind="manual", reason="worried", event_id=event.id)
    assert {r[0] for r in db.execute("SELECT raised_by FROM flags")} >= PERMISSIONS["raise_flag"]
    assert set(ROLES) - PERMISSIONS["raise_flag"] == {"strategy_lead"}


def test_raise_flag_refuses_an_unknown_kind_or_strength(db, researcher, event):
    with pytest.raises(FlagError, match="kind"):
        flags.raise_flag(db, researcher, kind="robot", reason="x", event_id=event.id)
    with pytest.raises(FlagError, match="strength"):
        flags.raise_flag(db, researcher, kind="auto", reason="x", event_id=event.id, strength="certain")
    assert db.execute("SELECT COUNT(*) FROM flags").fetchone()[0] == 0


def test_manual_flag_on_a_saved_respondent(db, researcher, event, safeguarding_lead):
    saved = _save(db, researcher, event, {"thrive_helps": "parks"})
    flag_respondent(db, researcher, saved.respondent_id, note="went quiet")
    (item,) = flags.queue(db, safeguarding_lead)
    assert item.kind == "manual" and item.respondent_id == saved.respondent_id and item.text == "parks"
    assert item.urgency == 0 and item.category is None


def test_flagged_events_lists_only_events_with_flags(db, admin, researcher, event, safeguarding_lead):
    from data.events import create_event

    create_event(db, admin, name="Quiet day", date="2026-12-09")
    assert flags.flagged_events(db, safeguarding_lead) == []
    _save(db, researcher, event, {"thrive_helps": DISCLOSURE})
    assert flags.flagged_events(db, safeguarding_lead) == [(event.id, "Family centre drop-in", "2026-11-20")]


def test_cli_safeguarding_list_json(db, db_path, flagged, safeguarding_lead):
    from cli import cli

    flags.set_status(db, safeguarding_lead, flagged[1].flags[0].id, "no_further_action", "Checked with the school")
    result = CliRunner().invoke(cli, ["safeguarding", "list", "--json", "--db", str(db_path)], catch_exceptions=False)
    assert result.exit_code == 0
    rows = json.loads(result.output)
    assert isinstance(rows, list) and len(rows) == 1
    (row,) = rows
    assert {"id", "response_id", "external_id", "reason", "status", "created_at", "event", "kind", "category",
            "strength", "urgency", "overdue"} <= set(row)
    assert row["status"] == "open" and row["kind"] == "auto" and row["event"] == "Family centre drop-in"
    assert (row["category"], row["strength"], row["urgency"], row["overdue"]) == (
        "physical", "strong", "Immediate risk", False)
    assert row["response_id"] == flagged[0].flags[0].response_id
    assert DISCLOSURE not in result.output  # the list names flags; the words stay in the app
    table = CliRunner().invoke(cli, ["safeguarding", "list", "--db", str(db_path)])
    assert table.exit_code == 0 and row["id"] in table.output and "Immediate risk" in table.output


def test_cli_safeguarding_release(db, db_path, flagged, safeguarding_lead):
    from cli import cli

    flag = flagged[0].flags[0]
    args = ["safeguarding", "release", flag.id, "--db", str(db_path)]
    missing = CliRunner().invoke(cli, args)
    assert missing.exit_code == 2 and "--note" in missing.output  # click: the option is required
    empty = CliRunner().invoke(cli, [*args, "--note", " "])
    assert empty.exit_code == 1 and "reason" in empty.output
    unknown = CliRunner().invoke(cli, ["safeguarding", "release", "nope", "--note", "x", "--db", str(db_path)])
    assert unknown.exit_code == 1 and "does not exist" in unknown.output
    assert flags.get(db, safeguarding_lead, flag.id).released_at is None
    done = CliRunner().invoke(cli, [*args, "--note", "Quote agreed"], catch_exceptions=False)
    assert done.exit_code == 0 and "Released" in done.output
    item = flags.get(db, safeguarding_lead, flag.id)
    assert item.released and item.status == "no_further_action" and item.released_by.startswith("cli:")
    assert not _withheld(db, flag.response_id)


def test_imported_flag_carries_its_external_id(db, db_path, officer, safeguarding_lead):
    from data.importer import import_responses

    csv = ("id,question,group,text,event\n"
           "r-1,thrive_helps,young_person,parks and the youth club,Market day\n"
           f"r-2,thrive_helps,young_person,{DISCLOSURE},Market day\n").encode()
    import_responses(db, officer.__class__(officer.username, frozenset({"admin"})), csv, "answers.csv")
    (item,) = flags.queue(db, safeguarding_lead)
    assert item.external_id == "r-2" and item.event == "Market day" and item.text == DISCLOSURE
    assert item.category == "physical" and item.strength == "strong"


def test_timestamps_sort_as_text():
    # the queue compares created_at with the overdue cut-off and seen_at as strings: same format as now_utc()
    assert len(_ago(1)) == len(now_utc()) and _ago(1) < now_utc()
