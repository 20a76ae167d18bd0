"""The shared suggestion model (data/model_service.py): one per database, built by a worker thread, never out of step
with the codings however many sessions code at once, kept on disk between server starts, and never serving words
that were flagged since it was built."""

from __future__ import annotations

import csv
import json
import random
import threading
from pathlib import Path

import pytest

from data import codebook as cb
from data import coding, flags, model_service
from data.importer import import_responses
from data.suggestions import build_suggester
from data.users import PermissionDenied
from tests.conftest import make_user

ROOT = Path(__file__).resolve().parent.parent
CODES = (("food", "Food", "meals, hunger, breakfast"), ("home", "Home", "housing, a warm safe home"),
         ("friends", "Friends", "mates and people to talk to"), ("money", "Money", "bills, cost, not enough money"),
         ("school", "School", "teachers, lessons, school"))


@pytest.fixture(autouse=True)
def _stop_workers():
    yield
    model_service.shutdown_all()


@pytest.fixture
def answers(db, admin, officer):
    demo = [row["text"] for row in csv.DictReader((ROOT / "data" / "demo" / "answers.csv").open(encoding="utf-8"))]
    lines = ["id,question,group,text"]
    for i, text in enumerate(demo[:80]):
        quoted = text.replace('"', '""')
        lines.append(f'x{i},{("thrive_helps", "thrive_stops")[i % 2]},young_person,"{quoted}"')
    import_responses(db, admin, "\n".join(lines).encode(), "answers.csv", event="Drop-in")
    lead = make_user("safeguarding_lead", name="sue_safeguarding")
    for (flag_id,) in db.execute("SELECT id FROM flags WHERE released_at IS NULL").fetchall():
        flags.release(db, lead, flag_id, "Checked: no further action, may be quoted.")  # the importer's own flags
    for name, label, definition in CODES:
        cb.create_code(db, officer, name, label, definition=definition)
    ids = [row[0] for row in db.execute("SELECT id FROM responses ORDER BY external_id").fetchall()]
    rng = random.Random(3)
    for rid in ids[:20]:
        coding.apply_code(db, officer, rid, CODES[rng.randrange(len(CODES))][0])
    return ids


def view(service, user, db, wait=60.0):
    return service.view(user, cb.version(db), coding.withheld_version(db, user), wait=wait)


def ranked(model, texts):
    return [[(s.code, round(float(s.score), 6)) for s in model.suggest(t, top_k=3)] for t in texts]


def test_one_service_per_database_and_permission_checked(db, db_path, officer, researcher, answers, tmp_path):
    service = model_service.service_for(db_path)
    assert model_service.service_for(str(db_path)) is service
    assert model_service.service_for(tmp_path / "other.db") is not service
    with pytest.raises(PermissionDenied):
        view(service, researcher, db, wait=0)


def test_the_first_model_is_built_by_the_worker_and_matches_a_fresh_one(db, db_path, officer, answers):
    service = model_service.service_for(db_path)
    got = view(service, officer, db)
    assert got.state == "ready" and got.model is not None
    assert service.builds == 1
    texts = [coding.get_answer(db, officer, rid).text for rid in answers]
    assert ranked(got.model, texts) == ranked(build_suggester(db, officer), texts)
    assert got.model.n_coded == 20


def test_a_tap_never_builds_in_the_callers_thread(db, db_path, officer, answers, monkeypatch):
    import data.suggestions as suggestions

    threads = []
    real = suggestions.build_suggester

    def recording(db, user, coder=None):
        threads.append(threading.current_thread().name)
        return real(db, user, coder)

    monkeypatch.setattr(suggestions, "build_suggester", recording)
    service = model_service.service_for(db_path)
    view(service, officer, db)
    coding.apply_code(db, officer, answers[30], "food")
    service.notify()
    assert service.wait_idle(60)
    assert threads and all(name.startswith("model-service:") for name in threads)
    assert threading.current_thread().name not in threads


def test_hammered_from_eight_threads_it_ends_equal_to_a_fresh_model(db, db_path, officer, answers):
    """8 sessions x 50 taps (apply or remove a code, then read suggestions) at once: no exception in any of them,
    every model they were shown consistent, and after the last tap the model equals one built afresh."""
    service = model_service.service_for(db_path)
    view(service, officer, db)
    errors: list[BaseException] = []
    names = [c[0] for c in CODES]
    coders = [make_user("engagement_officer", name=f"coder_{k}") for k in range(8)]

    def session(k: int) -> None:
        from data import open_db

        rng = random.Random(k)
        conn = open_db(db_path, migrate=False)
        user = coders[k]
        try:
            for _ in range(50):
                rid = answers[rng.randrange(len(answers))]
                name = names[rng.randrange(len(names))]
                if name in coding.get_answer(conn, user, rid).codes:
                    coding.remove_code(conn, user, rid, name)
                else:
                    coding.apply_code(conn, user, rid, name)
                service.notify()
                got = service.view(user, cb.version(conn), coding.withheld_version(conn, user), wait=0)
                if got.model is not None:
                    suggestions = got.model.suggest(coding.get_answer(conn, user, rid).text, top_k=3)
                    assert all(s.code in names for s in suggestions)
                    assert got.model.n_coded == len(got.model._corpus.labels) == len(got.model._corpus.texts)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            conn.conn.close()

    workers = [threading.Thread(target=session, args=(k,)) for k in range(8)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=300)
    assert not [w for w in workers if w.is_alive()]
    assert errors == []
    assert service.wait_idle(120)
    model = service.snapshot().model
    coded = db.execute("SELECT count(DISTINCT response_id) FROM codings").fetchone()[0]
    assert coded > 20 and model.n_coded == coded  # every coded answer learned, none twice
    texts = [coding.get_answer(db, officer, rid).text for rid in answers]
    assert ranked(model, texts) == ranked(build_suggester(db, officer), texts)
    assert service.snapshot().key == model_service.current_key(db)


def test_kept_on_disk_and_loaded_at_the_next_start(db, db_path, officer, answers):
    service = model_service.service_for(db_path)
    first = view(service, officer, db).model
    assert service.wait_idle(60)
    folder = model_service.cache_dir(db_path)
    assert (folder / "suggester.pkl").is_file() and (folder / "meta.json").is_file()
    model_service.shutdown_all()  # a server restart
    again = model_service.service_for(db_path)
    got = view(again, officer, db)
    assert got.model is not None and again.loads == 1 and again.builds == 0
    texts = [coding.get_answer(db, officer, rid).text for rid in answers[:30]]
    assert ranked(got.model, texts) == ranked(first, texts)


def test_a_stale_file_is_used_then_replaced_and_a_damaged_one_rebuilt(db, db_path, officer, answers):
    service = model_service.service_for(db_path)
    view(service, officer, db)
    assert service.wait_idle(60)
    model_service.shutdown_all()
    coding.apply_code(db, officer, answers[40], "money")  # codings changed while the server was down
    again = model_service.service_for(db_path)
    assert again.wait_idle(60)
    assert again.loads == 1 and again.builds == 1
    meta = json.loads((model_service.cache_dir(db_path) / "meta.json").read_text())
    assert tuple(meta["key"]["codings"]) == model_service.current_key(db).codings

    model_service.shutdown_all()
    (model_service.cache_dir(db_path) / "suggester.pkl").write_bytes(b"not a pickle")
    third = model_service.service_for(db_path)
    assert view(third, officer, db).model is not None
    assert third.loads == 0 and third.builds == 1


def test_a_file_from_other_engine_code_is_never_loaded(db, db_path, officer, answers):
    service = model_service.service_for(db_path)
    view(service, officer, db)
    assert service.wait_idle(60)
    model_service.shutdown_all()
    meta_path = model_service.cache_dir(db_path) / "meta.json"
    meta = json.loads(meta_path.read_text())
    meta["key"]["engine"] = "something-else"
    meta_path.write_text(json.dumps(meta))
    again = model_service.service_for(db_path)
    assert view(again, officer, db).model is not None
    assert again.loads == 0 and again.builds == 1


def test_after_a_flag_the_old_model_is_never_served_nor_kept(db, db_path, officer, answers):
    service = model_service.service_for(db_path)
    coded = answers[0]
    text = coding.get_answer(db, officer, coded).text
    before = view(service, officer, db)
    assert text in before.model._corpus.texts
    assert service.wait_idle(60)
    flags.raise_flag(db, officer, kind="manual", reason="Worried", response_id=coded)
    # this page sees the new flag: without waiting it gets no model rather than the one holding the words
    now = view(service, officer, db, wait=0)
    assert now.model is None or text not in now.model._corpus.texts
    after = view(service, officer, db)
    assert after.model is not None and text not in after.model._corpus.texts
    # the file on disk was rewritten from the new model too
    assert service.wait_idle(60)
    model_service.shutdown_all()
    again = model_service.service_for(db_path)
    assert text not in view(again, officer, db).model._corpus.texts


def test_a_failing_build_is_reported_not_raised(db, db_path, officer, answers, monkeypatch):
    import data.suggestions as suggestions

    def broken(db, user, coder=None):
        raise RuntimeError("no model today")

    monkeypatch.setattr(suggestions, "build_suggester", broken)
    service = model_service.service_for(db_path)
    got = view(service, officer, db, wait=30)
    assert got.model is None and got.state == "error" and "no model today" in got.error
    assert got.message.startswith("Suggestions are unavailable")
