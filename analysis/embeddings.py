"""Sentence embeddings of answers on CPU: the shipped all-MiniLM-L6-v2 (int8 ONNX) through onnxruntime.

Owns loading and checking the model files (analysis/resources/models/all-MiniLM-L6-v2, or THRIVE_MODEL_DIR) and
`embed`. Nothing is downloaded: when the files are missing or fail their checksums, `available()` is False and
`unavailable_reason()` says why in plain words, and callers fall back to what they did before.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # numpy, onnxruntime and tokenizers load only when embeddings are used (CLI start-up, issue 14)
    import numpy

log = logging.getLogger(__name__)

DEFAULT_MODEL_DIR = Path(__file__).resolve().parent / "resources" / "models" / "all-MiniLM-L6-v2"
#: sha256 of the shipped model.onnx (scripts/build_embedding_model.py prints it). Pinned here as well as in
#: SHA256SUMS so that a model file swapped together with its SHA256SUMS is still refused.
MODEL_SHA256 = "28280d629bed0b036b512bd1737b77dee52ab9806ad3370d95b0a7b80d9cc9e2"
#: Names the vectors stored in the database: a different model (or build) means different, incomparable vectors.
#: "+plain1": texts are embedded after analysis.text.plain_words (slang replaced by plain words); a change to that
#: step is a new suffix, so vectors stored before it are recomputed.
MODEL_ID = f"all-MiniLM-L6-v2-int8@{MODEL_SHA256[:12]}+plain1"
DIM = 384
MAX_TOKENS = 256  # also set in the shipped tokenizer.json; repeated here so an edited file cannot change it
#: onnxruntime threads inside one run. 1: measured faster than 2 on this 2-core machine under load, and embedding
#: runs in the background beside the app's own work (bench/bench_embeddings.py prints both).
THREADS = int(os.environ.get("THRIVE_EMBED_THREADS", "1"))
FALLBACK = "suggestions use codebook words and codings only"
_REQUIRED = ("model.onnx", "tokenizer.json")


class EmbeddingsUnavailable(RuntimeError):
    """The model files are missing or damaged; the message says which, in plain words."""


def model_dir() -> Path:
    """Where the model files are read from: env THRIVE_MODEL_DIR, else the shipped folder."""
    return Path(os.environ.get("THRIVE_MODEL_DIR") or DEFAULT_MODEL_DIR)


_lock = threading.Lock()
_checked: dict[Path, str | None] = {}  # model dir -> None (files good) or the reason they are not
_runtime: dict[Path, tuple[object, object]] = {}  # model dir -> (onnxruntime session, tokenizer)


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _check(folder: Path) -> str | None:
    """None when the files in `folder` are present and match SHA256SUMS and the pinned model hash."""
    sums_file = folder / "SHA256SUMS"
    missing = [n for n in (*_REQUIRED, "SHA256SUMS") if not (folder / n).is_file()]
    if missing:
        return f"model files missing ({', '.join(missing)} in {folder}): {FALLBACK}"
    sums: dict[str, str] = {}
    for line in sums_file.read_text(encoding="utf-8", errors="replace").splitlines():
        parts = line.split()
        if len(parts) == 2:
            sums[parts[1].lstrip("*")] = parts[0].lower()
    for name in _REQUIRED:
        if name not in sums:
            return f"model checksum list does not name {name}: {FALLBACK}"
    if sums["model.onnx"] != MODEL_SHA256:
        return f"model.onnx is not the model this version was built for ({MODEL_ID}): {FALLBACK}"
    for name, expected in sums.items():
        if not (folder / name).is_file():
            return f"model file {name} missing: {FALLBACK}"
        if _sha256(folder / name) != expected:
            return f"model file {name} is damaged (checksum does not match): {FALLBACK}"
    return None


def unavailable_reason() -> str | None:
    """None when embeddings can be computed; else why not, in plain words (cached per model folder)."""
    folder = model_dir()
    with _lock:
        if folder not in _checked:
            try:
                reason = _check(folder)
            except OSError as exc:
                reason = f"model files could not be read ({exc.strerror or exc}): {FALLBACK}"
            if reason is None:
                try:
                    import onnxruntime  # noqa: F401
                    import tokenizers  # noqa: F401
                except ImportError as exc:
                    reason = f"the embedding runtime is not installed ({exc.name}): {FALLBACK}"
            if reason:
                log.warning("sentence embeddings unavailable: %s", reason)
            _checked[folder] = reason
        return _checked[folder]


def available() -> bool:
    """True when the model files are present and their checksums match (checked once per folder)."""
    return unavailable_reason() is None


def reset() -> None:
    """Forget the checks and the loaded model (tests that point THRIVE_MODEL_DIR elsewhere)."""
    with _lock:
        _checked.clear()
        _runtime.clear()


def _load(folder: Path) -> tuple[object, object]:
    with _lock:
        if folder not in _runtime:
            import onnxruntime as ort
            from tokenizers import Tokenizer

            opts = ort.SessionOptions()
            opts.intra_op_num_threads = THREADS
            opts.inter_op_num_threads = 1
            opts.log_severity_level = 3
            session = ort.InferenceSession(str(folder / "model.onnx"), opts, providers=["CPUExecutionProvider"])
            tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
            tokenizer.enable_truncation(MAX_TOKENS)
            tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
            _runtime[folder] = (session, tokenizer)
        return _runtime[folder]


def embed(texts: Sequence[str], batch_size: int = 64, *, plain: bool = True) -> numpy.ndarray:
    """Sentence vectors of `texts`: float32, shape (len(texts), DIM), rows of length 1.

    With `plain` (the default, and what MODEL_ID's "+plain1" names) each text first goes through
    analysis.text.plain_words, so "no brekkie b4 school" is read as "no breakfast before school"; `plain=False`
    gives the model's own vector of the raw text (the build script's checks).

    As sentence-transformers computes them for all-MiniLM-L6-v2 (lower-cased WordPiece, at most 256 tokens, mean of
    the token vectors over the attention mask, L2-normalised). Deterministic: a text's vector does not depend on the
    other texts or the batch size (to ~1e-7: the weights are stored as int8 but the arithmetic is float32). Texts
    are sorted by length before batching so that little padding is computed. Raises EmbeddingsUnavailable when the model cannot be used.
    Thread-safe: one onnxruntime session per process, which onnxruntime allows to run from several threads.
    """
    import numpy as np

    reason = unavailable_reason()
    if reason is not None:
        raise EmbeddingsUnavailable(reason)
    texts = [t if isinstance(t, str) else "" for t in texts]
    out = np.zeros((len(texts), DIM), dtype=np.float32)
    if not texts:
        return out
    if plain:
        from analysis.text import plain_words

        texts = [plain_words(t) for t in texts]
    session, tokenizer = _load(model_dir())
    batch_size = max(1, int(batch_size))
    order = sorted(range(len(texts)), key=lambda i: (len(texts[i]), i))
    for start in range(0, len(order), batch_size):
        rows = order[start : start + batch_size]
        encoded = tokenizer.encode_batch([texts[i] for i in rows])  # type: ignore[attr-defined]
        ids = np.array([e.ids for e in encoded], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encoded], dtype=np.int64)
        vectors = session.run(["sentence_embedding"], {"input_ids": ids, "attention_mask": mask})[0]  # type: ignore[attr-defined]
        out[rows] = vectors
    return out
