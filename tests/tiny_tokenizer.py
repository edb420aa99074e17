"""A tiny byte-level BPE tokenizer with a chat template, trained on the spot for tests.

`build_tokenizer(directory)` writes `tokenizer.json` and `tokenizer_config.json` the way a Hugging Face
checkpoint ships them, so both `ssmdoc.models.tokenizer.Tokenizer.from_dir` and transformers'
`PreTrainedTokenizerFast.from_pretrained` can read the same directory. Training is deterministic: the same
arguments always give byte-identical files (the parity tests compare token ids across libraries).

The special tokens take ids 0-5, below the 512-entry vocabulary of the tiny random models.
"""

from __future__ import annotations

import json
from pathlib import Path

from tokenizers import AddedToken, Tokenizer, decoders, models, pre_tokenizers, trainers

SPECIAL_TOKENS = ("<|bos|>", "<|eos|>", "<|pad|>", "<|user|>", "<|assistant|>", "<|system|>")

# A realistic template: a bos at the start, one role header per turn, each turn closed by eos, a validation
# error for unknown roles, and the assistant header opened when add_generation_prompt is set. Written over
# several lines on purpose: it only renders as intended with trim_blocks and lstrip_blocks, as in transformers.
CHAT_TEMPLATE = """{{ bos_token }}{% for message in messages %}
    {% if message['role'] not in ['system', 'user', 'assistant'] %}
        {{ raise_exception('Unknown role: ' + message['role']) }}
    {% endif %}
    {% if message['role'] == 'system' and not loop.first %}
        {{ raise_exception('The system message must come first') }}
    {% endif %}
<|{{ message['role'] }}|>
{{ message['content'] | trim }}{{ eos_token }}
{% endfor %}
{% if add_generation_prompt %}
<|assistant|>
{% endif %}"""

# English prose, Python, shell and log lines, JSON, and some non-ASCII text so that multi-byte UTF-8
# sequences exist in the vocabulary (the incremental decoder must not cut them).
CORPUS = [
    "The quick brown fox jumps over the lazy dog. A state-space model reads a long document in chunks,",
    "carrying a fixed-size recurrent state from one chunk to the next, so its memory does not grow with",
    "the length of the input the way a transformer's key-value cache does.",
    "Summaries should be short, accurate and cite the page or the line they come from.",
    "Question: what does the contract say about termination? Answer: either party may terminate with",
    "thirty days' written notice, as stated in section 12.3 on page 7.",
    "It was the best of times, it was the worst of times, it was the age of wisdom, it was the age of",
    "foolishness. There were a king with a large jaw and a queen with a plain face, on the throne of England.",
    "def selective_scan(u, delta, A, B, C, D=None):",
    '    """Run the recurrence h[t] = exp(delta * A) * h[t-1] + delta * B * u[t]."""',
    "    batch, length, d_inner = u.shape",
    "    for t in range(length):",
    "        h = torch.exp(delta[:, t] * A) * h + delta[:, t] * B[:, t] * u[:, t]",
    "        y.append((h * C[:, t]).sum(-1))",
    "    return torch.stack(y, dim=1) + (u * D if D is not None else 0)",
    "class Config:\n    hidden_size: int = 256\n    num_layers: int = 8\n    vocab_size: int = 512\n",
    "import json, os, sys\nfrom pathlib import Path\n\nif __name__ == '__main__':\n    main(sys.argv[1:])\n",
    "$ pip install -e '.[test]' && pytest -q tests/\n",
    "2024-03-14 09:26:53,589 INFO  server: listening on 0.0.0.0:8080",
    "2024-03-14 09:27:01,112 WARN  db: slow query took 1532 ms: SELECT * FROM users WHERE id = 42",
    "2024-03-14 09:27:05,004 ERROR worker-3: connection reset by peer (retry 2/5)",
    "2024-03-14 09:27:05,771 DEBUG cache: hit ratio 0.93, evictions 17",
    "Traceback (most recent call last):\n  File \"app.py\", line 12, in <module>\nValueError: bad input",
    '{"name": "ssmdoc", "version": "0.1.0", "layers": ["mamba", "attention", "mamba"], "ok": true}',
    "Café, naïve, façade, Übergröße, smørrebrød — “quoted” text… and 10 € or £5.",
    "日本語のテキストと中文文本，还有한국어 텍스트. Emoji: 🙂 🚀 ✅ — multi-byte characters.",
    "Γειά σου κόσμε. Привет, мир! שלום עולם. مرحبا بالعالم.",
]


def _train(vocab_size: int) -> Tokenizer:
    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=[AddedToken(t, special=True, normalized=False) for t in SPECIAL_TOKENS],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    # Repeating the corpus makes merge counts large enough that ties (which could depend on hash order)
    # do not decide the first merges; the result is checked to be reproducible by the tests.
    tokenizer.train_from_iterator(CORPUS * 4, trainer=trainer)
    return tokenizer


def build_tokenizer(directory: str | Path, vocab_size: int = 512) -> Path:
    """Train the tiny tokenizer and write tokenizer.json + tokenizer_config.json into `directory`.

    Returns the directory. Token ids: specials 0-5, then the 256 byte symbols, then merges up to `vocab_size`.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    tokenizer = _train(vocab_size)
    assert tokenizer.get_vocab_size() <= vocab_size
    tokenizer.save(str(directory / "tokenizer.json"))
    config = {
        "tokenizer_class": "PreTrainedTokenizerFast",
        "bos_token": "<|bos|>",
        "eos_token": "<|eos|>",
        "pad_token": "<|pad|>",
        "unk_token": None,
        "add_bos_token": False,
        "add_eos_token": False,
        "clean_up_tokenization_spaces": False,
        "model_max_length": 4096,
        "chat_template": CHAT_TEMPLATE,
    }
    (directory / "tokenizer_config.json").write_text(json.dumps(config, indent=2, ensure_ascii=False) + "\n")
    return directory


if __name__ == "__main__":  # python tests/tiny_tokenizer.py DIR
    import sys

    print(build_tokenizer(sys.argv[1]))
