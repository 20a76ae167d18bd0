"""Sentence embeddings: the shipped model (shape, unit length, determinism, meaning), its checksum guard, and the
stored vectors (round trip, idempotent top-up, erasure and re-redaction delete them, background top-up, CLI)."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
from click.testing import CliRunner

from analysis import embeddings as emb
from data import erasure
from data.capture import save_respondent
from data.embeddings import (
    embedding_coverage,
    ensure_embeddings,
    load_embeddings,
    top_up_in_background,
)


@pytest.fixture(autouse=True)
def _fresh_model_state(monkeypatch):
    monkeypatch.delenv("THRIVE_MODEL_DIR", raising=False)
    emb.reset()
    yield
    emb.reset()


def _save(db, user, event, answers):
    return save_respondent(db, user, event_id=event.id, group_id="young_person", consent=True, answers=answers)


def _ids(db, respondent_id):
    return [r[0] for r in db.execute("SELECT id FROM responses WHERE respondent_id = ? ORDER BY id", [respondent_id])]


# ------------------------------------------------------------------------------------------------------ the model

def test_shipped_model_is_available():
    assert emb.unavailable_reason() is None, emb.unavailable_reason()
    assert emb.available()
    model, _, steps = emb.MODEL_ID.partition("+")
    assert model.startswith("all-MiniLM-L6-v2-int8@") and emb.MODEL_SHA256.startswith(model[-12:])
    assert steps == "plain1"


def test_slang_is_read_in_plain_words():
    # the model never saw "brekkie" or "b4": with the lexicon's meanings the answer lands next to what it says
    slang, plain, school = emb.embed(["no brekkie b4 school", "no breakfast before school", "school"])
    raw = emb.embed(["no brekkie b4 school"], plain=False)[0]
    assert float(slang @ plain) > 0.99 > float(raw @ plain)
    # text in another script is embedded as it is
    urdu = "مجھے اسکول پسند ہے"
    assert np.allclose(emb.embed([urdu])[0], emb.embed([urdu], plain=False)[0])


def test_vectors_have_the_shape_unit_length_and_are_deterministic():
    texts = ["scary streets at night", "food", "", "my nan looks after me after school " * 40]
    first = emb.embed(texts)
    assert first.shape == (4, emb.DIM) and first.dtype == np.float32
    assert np.allclose(np.linalg.norm(first, axis=1), 1.0, atol=1e-5)
    again = emb.embed(list(reversed(texts)), batch_size=1)[::-1]
    # the same text gives the same vector whatever its batch-mates, order or batch size
    assert np.abs(first - again).max() < 1e-5
    assert np.array_equal(emb.embed(texts), first)
    assert emb.embed([]).shape == (0, emb.DIM)


def test_threads_share_one_session_and_get_the_same_vectors():
    import threading

    texts = ["parks with lights", "someone to talk to", "food"]
    results, errors = [], []

    def work():
        try:
            results.append(emb.embed(texts))
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(4)]  # all start before the model is loaded
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors and len(results) == 4
    assert all(np.array_equal(r, results[0]) for r in results)
    assert len(emb._runtime) == 1


def test_similar_meanings_are_closer_than_unrelated_ones():
    scary, safety, food, nan, family = emb.embed([
        "scary streets at night", "safety: feeling safe in the area", "food",
        "my nan looks after me", "family: parents, grandparents, brothers and sisters"])
    assert scary @ safety > scary @ food + 0.1
    assert nan @ family > nan @ safety


def _copy_model(tmp_path):
    folder = tmp_path / "model"
    shutil.copytree(emb.DEFAULT_MODEL_DIR, folder)
    return folder


def test_a_corrupted_model_file_is_refused_with_a_reason(tmp_path, monkeypatch):
    folder = _copy_model(tmp_path)
    data = bytearray((folder / "model.onnx").read_bytes())
    data[len(data) // 2] ^= 0x01
    (folder / "model.onnx").write_bytes(bytes(data))
    monkeypatch.setenv("THRIVE_MODEL_DIR", str(folder))
    emb.reset()
    assert not emb.available()
    assert "model.onnx is damaged" in emb.unavailable_reason()
    with pytest.raises(emb.EmbeddingsUnavailable, match="damaged"):
        emb.embed(["anything"])


def test_a_swapped_model_with_matching_checksum_list_is_still_refused(tmp_path, monkeypatch):
    folder = _copy_model(tmp_path)
    (folder / "model.onnx").write_bytes(b"not a model")
    import hashlib

    sums = (folder / "SHA256SUMS").read_text().splitlines()
    sums = [f"{hashlib.sha256(b'not a model').hexdigest()}  model.onnx" if line.endswith("model.onnx") else line
            for line in sums]
    (folder / "SHA256SUMS").write_text("\n".join(sums) + "\n")
    monkeypatch.setenv("THRIVE_MODEL_DIR", str(folder))
    emb.reset()
    assert "not the model this version was built for" in emb.unavailable_reason()


def test_missing_model_files_say_what_suggestions_fall_back_to(tmp_path, monkeypatch, db):
    monkeypatch.setenv("THRIVE_MODEL_DIR", str(tmp_path / "nowhere"))
    emb.reset()
    reason = emb.unavailable_reason()
    assert "model files missing" in reason and emb.FALLBACK in reason
    with pytest.raises(emb.EmbeddingsUnavailable):
        ensure_embeddings(db)
    assert top_up_in_background(db) is None


def test_a_damaged_tokenizer_is_refused(tmp_path, monkeypatch):
    folder = _copy_model(tmp_path)
    with open(folder / "tokenizer.json", "a", encoding="utf-8") as f:
        f.write(" ")
    monkeypatch.setenv("THRIVE_MODEL_DIR", str(folder))
    emb.reset()
    assert "tokenizer.json is damaged" in emb.unavailable_reason()


# ---------------------------------------------------------------------------------------------- stored vectors

def test_store_and_load_round_trip_in_the_given_order(db, researcher, event):
    saved = _save(db, researcher, event, {"thrive_helps": ["parks with lights", "my nan"], "neglect_is": "no food"})
    ids = _ids(db, saved.respondent_id)
    assert embedding_coverage(db) == (0, 3)
    assert ensure_embeddings(db, batch=2) == 3
    assert embedding_coverage(db) == (3, 3)
    texts = dict(db.execute("SELECT id, redacted_text FROM responses").fetchall())
    order = [ids[2], "no-such-answer", ids[0], ids[2]]
    vectors, mask = load_embeddings(db, order, with_mask=True)
    assert vectors.shape == (4, emb.DIM) and vectors.dtype == np.float32
    assert mask.tolist() == [True, False, True, True]
    assert not vectors[1].any()
    fresh = emb.embed([texts[ids[2]], texts[ids[0]]])
    # float16 storage: the stored vector is the computed one to within half-precision rounding
    assert np.abs(vectors[0] - fresh[0]).max() < 1e-3 and np.abs(vectors[2] - fresh[1]).max() < 1e-3
    assert (vectors[0] @ fresh[0]) > 0.9999
    assert np.array_equal(load_embeddings(db, order), vectors)
    # many ids at once take the whole-table scan: same answer
    many = [f"absent-{i}" for i in range(5001)] + order
    big, big_mask = load_embeddings(db, many, with_mask=True)
    assert np.array_equal(big[5001:], vectors) and big_mask.tolist() == [False] * 5001 + mask.tolist()


def test_vectors_come_from_the_redacted_text(db, researcher, event):
    saved = _save(db, researcher, event, {"thrive_helps": "call me on 07700 900123 about the youth club"})
    (rid,) = _ids(db, saved.respondent_id)
    original, redacted = db.execute("SELECT text, redacted_text FROM responses WHERE id = ?", [rid]).fetchone()
    assert original != redacted
    ensure_embeddings(db)
    stored = load_embeddings(db, [rid])[0]
    want, typed = emb.embed([redacted, original])
    assert stored @ want > 0.9999 and stored @ typed < stored @ want - 1e-3


def test_ensure_is_idempotent_and_honours_the_limit(db, researcher, event):
    for i in range(3):
        _save(db, researcher, event, {"thrive_helps": [f"answer {i}", f"another {i}"]})
    assert ensure_embeddings(db, limit=4, batch=3) == 4
    assert embedding_coverage(db) == (4, 6)
    before = dict(db.execute("SELECT response_id, vector FROM response_embeddings").fetchall())
    assert ensure_embeddings(db) == 2
    assert ensure_embeddings(db) == 0
    after = dict(db.execute("SELECT response_id, vector FROM response_embeddings").fetchall())
    assert {k: after[k] for k in before} == before and len(after) == 6


def test_vectors_of_another_model_are_replaced(db, researcher, event, monkeypatch):
    _save(db, researcher, event, {"thrive_helps": ["one", "two"]})
    monkeypatch.setattr(emb, "MODEL_ID", "older-model@000000000000")
    assert ensure_embeddings(db) == 2
    monkeypatch.undo()
    assert embedding_coverage(db) == (0, 2)
    assert not load_embeddings(db, _ids(db, db.execute("SELECT id FROM respondents").fetchone()[0])).any()
    assert ensure_embeddings(db) == 2
    assert {r[0] for r in db.execute("SELECT model FROM response_embeddings")} == {emb.MODEL_ID}


def test_erasure_deletes_the_vectors_of_the_erased_respondent_only(db, admin, researcher, event):
    gone = _save(db, researcher, event, {"thrive_helps": ["my nan", "parks"], "neglect_is": "no food"})
    kept = _save(db, researcher, event, {"thrive_helps": "youth club"})
    ensure_embeddings(db)
    assert embedding_coverage(db) == (4, 4)
    erasure.erase_respondent(db, admin, gone.respondent_id, "Withdrew consent on 3 Dec")
    rows = [r[0] for r in db.execute("SELECT response_id FROM response_embeddings")]
    assert rows == _ids(db, kept.respondent_id)
    assert embedding_coverage(db) == (1, 1)


def test_a_re_redacted_answer_loses_its_stale_vector(db, researcher, event):
    saved = _save(db, researcher, event, {"thrive_helps": ["parks", "clubs"]})
    first, second = _ids(db, saved.respondent_id)
    ensure_embeddings(db)
    db.execute("UPDATE responses SET redacted_text = 'youth [name] club' WHERE id = ?", [first])
    db.execute("UPDATE responses SET source = source WHERE id = ?", [second])  # other columns keep the vector
    db.conn.commit()
    assert load_embeddings(db, [first, second], with_mask=True)[1].tolist() == [False, True]
    assert ensure_embeddings(db) == 1
    assert load_embeddings(db, [first])[0] @ emb.embed(["youth [name] club"])[0] > 0.9999


def test_background_top_up_fills_the_gaps(db, researcher, event, monkeypatch):
    for i in range(3):
        _save(db, researcher, event, {"thrive_helps": f"answer number {i}"})
    monkeypatch.setenv("THRIVE_EMBED_BACKGROUND", "0")
    assert top_up_in_background(db) is None
    monkeypatch.setenv("THRIVE_EMBED_BACKGROUND", "1")
    thread = top_up_in_background(db, batch=2)
    assert thread is not None
    thread.join(120)
    assert not thread.is_alive()
    assert embedding_coverage(db) == (3, 3)


def test_cli_embed(db_path, db, researcher, event):
    import cli

    _save(db, researcher, event, {"thrive_helps": ["one", "two", "three"]})
    runner = CliRunner()
    result = runner.invoke(cli.cli, ["embed", "--db", str(db_path), "--limit", "2"])
    assert result.exit_code == 0, result.output
    assert "Stored 2 vector(s); 2 of 3 answers have one" in result.output
    result = runner.invoke(cli.cli, ["embed", "--db", str(db_path)])
    assert "Stored 1 vector(s); 3 of 3 answers have one" in result.output


def test_cli_embed_says_why_when_unavailable(db_path, db, tmp_path, monkeypatch):
    import cli

    monkeypatch.setenv("THRIVE_MODEL_DIR", str(tmp_path / "nowhere"))
    emb.reset()
    result = CliRunner().invoke(cli.cli, ["embed", "--db", str(db_path)])
    assert result.exit_code == 1 and "model files missing" in result.output


IMPORT = b"id,question,group,text\n1,thrive_helps,resident,parks with lights\n2,neglect_is,resident,no food at home\n"


def test_an_import_tops_up_in_the_background_after_it_commits(db, db_path, officer, monkeypatch):
    from data import embeddings as store
    from data.importer import import_responses

    monkeypatch.setenv("THRIVE_EMBED_BACKGROUND", "1")
    result = import_responses(db, officer, IMPORT, "answers.csv", event="Market day")
    assert result.added == 2
    thread = store._running.get(str(db_path))
    assert thread is not None
    thread.join(120)
    assert embedding_coverage(db) == (2, 2)
    # a re-import adds nothing and starts nothing
    store._running.clear()
    import_responses(db, officer, IMPORT, "answers.csv", event="Market day")
    assert store._running == {}


def test_cli_import_leaves_embedding_to_cli_embed(db_path, db, monkeypatch, tmp_path):
    import cli
    from data import embeddings as store

    monkeypatch.setenv("THRIVE_EMBED_BACKGROUND", "1")
    store._running.clear()
    (tmp_path / "a.csv").write_bytes(IMPORT)
    result = CliRunner().invoke(cli.cli, ["import", "responses", str(tmp_path / "a.csv"), "--event", "Fair",
                                          "--db", str(db_path)])
    assert result.exit_code == 0, result.output
    assert "python cli.py embed" in result.output
    assert store._running == {} and embedding_coverage(db) == (0, 2)
