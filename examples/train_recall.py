"""Train the packaged recall checkpoints: a tiny hybrid (Mamba-2 layers + one attention layer) and a pure
SSM of the same shape, on needle retrieval in exactly the token layout `ssmdoc ask` feeds.

    python examples/train_recall.py --arch hybrid --out ssmdoc/data/recall-hybrid
    python examples/train_recall.py --arch mamba  --out ssmdoc/data/recall-mamba

Both are Bamba checkpoints (transformers' BambaForCausalLM, which ssmdoc loads): 4 layers of Mamba-2 mixer
+ MLP; the hybrid's layer 2 (--attention-layer) has an attention mixer instead, the pure one has none. Everything else (width,
MLPs, tokenizer, data, steps, seed) is the same, so the comparison isolates the one attention layer.

Three stages (docs/eval.md has what each is for, and what failed without them):
1. copying: n random tokens, then the same n again, loss on the second half (forms the look-up head);
2. needle documents: 2-8 needles, most stated twice, loss on every token, then `--questions` questions
   about the document, each in the `ask` suffix and answered;
3. exactly what the pipeline builds for one question, token for token: the prompt prefix of `ssmdoc ask`
   (the question before the document) or, in half of the examples, of `ssmdoc read` (no question: the
   state is saved and asked later); the haystack from ssmdoc.eval.haystack (filler + 1-4 needles at random
   depths) tokenized by the pipeline's own ingestion (stdin, or a file with its `=== path ===` header
   line); the prompt suffix of `ask`, then the code and the end token. The loss is on those tokens and on
   the codes of needles the haystack states a second time (half of them). The held-out score counts
   answers only, on haystacks without repeats.

Runs on CPU with transformers (a test-only dependency of ssmdoc, needed here). Deterministic for a given
--seed and thread count. The printed command and the final numbers are written beside the weights
(TRAINING.md).
"""

from __future__ import annotations

import argparse
import io
import json
import math
import random
import time
from pathlib import Path

import torch

from ssmdoc.eval.haystack import NAMES, Needle, build_haystack, draw_needles, filler_sentence, filler_units, question_for
from ssmdoc.ingest import iter_segments
from ssmdoc.models.tokenizer import Tokenizer
from ssmdoc.pipeline import Task, build_prompt
from ssmdoc.pipeline.prompts import _texts
from ssmdoc.pipeline.reading import tokenize

SPECIALS = ("<|bos|>", "<|eos|>", "<|pad|>", "<|user|>", "<|assistant|>")
CHAT_TEMPLATE = (
    "{{ bos_token }}{% for message in messages %}<|{{ message['role'] }}|>\n{{ message['content'] | trim }}"
    "{{ eos_token }}\n{% endfor %}{% if add_generation_prompt %}<|assistant|>\n{% endif %}"
)


def build_tokenizer(directory: Path, vocab_size: int, seed: int) -> Tokenizer:
    """A byte-level BPE (any text encodes) trained on filler, needles and prompts. Digits are split into groups
of up to three before BPE, as Llama 3's tokenizer does, and every group from 0 to 999 is in the vocabulary,
so a six-digit code is two tokens drawn from a thousand: a copy of it can be found by content."""
    from tokenizers import AddedToken, Regex, decoders, models, pre_tokenizers, trainers
    from tokenizers import Tokenizer as Backend

    rng = random.Random(seed)
    corpus = [filler_sentence(rng) for _ in range(4000)]
    corpus += [f"The access code for {n} is 123456. {question_for(n)}" for n in NAMES] * 20
    for task in (Task("ask", "What is the access code for Ada?"), Task("read")):
        corpus += list(_texts(task, "whole")) * 50
    corpus += ["=== haystack.txt ===", "=== notes/report.md ==="] * 20
    corpus += [f"{i:03d} {i:02d} {i % 10}" for i in range(1000)] * 3  # every group of 1-3 digits
    backend = Backend(models.BPE())
    backend.pre_tokenizer = pre_tokenizers.Sequence(
        [pre_tokenizers.Split(Regex(r"[0-9]{1,3}"), behavior="isolated"), pre_tokenizers.ByteLevel(add_prefix_space=False)]
    )
    backend.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size, show_progress=False, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        special_tokens=[AddedToken(t, special=True, normalized=False) for t in SPECIALS],
    )
    backend.train_from_iterator(corpus, trainer=trainer)
    directory.mkdir(parents=True, exist_ok=True)
    backend.save(str(directory / "tokenizer.json"))
    config = {
        "tokenizer_class": "PreTrainedTokenizerFast", "bos_token": "<|bos|>", "eos_token": "<|eos|>",
        "pad_token": "<|pad|>", "unk_token": None, "add_bos_token": False, "add_eos_token": False,
        "clean_up_tokenization_spaces": False, "model_max_length": 262144, "chat_template": CHAT_TEMPLATE,
    }
    (directory / "tokenizer_config.json").write_text(json.dumps(config, indent=2) + "\n")
    return Tokenizer.from_dir(directory)


class Examples:
    """Training examples in the pipeline's token layout (see the module docstring)."""

    def __init__(self, tokenizer: Tokenizer, seed: int, repeats: bool = True, questions: int = 3):
        self.tok = tokenizer
        self.questions = questions
        self.repeats = repeats
        self.rng = random.Random(seed)
        self.read_prefix = build_prompt(tokenizer, Task("read")).prefix
        self.counts: dict[str, int] = {}
        self._filler_seed = seed * 1_000_003
        self.gen = torch.Generator().manual_seed(seed)

    def count(self, unit: str) -> int:
        n = self.counts.get(unit)
        if n is None:
            n = self.counts[unit] = len(self.tok.encode(unit, parse_special=False))
        return n

    def document(self, text: str) -> list[int]:
        segments = iter_segments(["-"], stdin=io.BytesIO(text.encode()))
        return [i for piece in tokenize(segments, self.tok) for i in piece.ids]

    def dense(self, doc_tokens: int) -> tuple[list[int], list[int]]:
        """Stage 2: a document that is mostly needles (2-8), nine in ten stated again later; no prompt, the
        loss on every token (the formula is learned at once, the repeated codes only by finding the first),
        then up to `questions` questions about it with their answers."""
        rng = self.rng
        needles, _, hay = self._haystack(doc_tokens, (2, 8), 0.9)
        ids = self.document(hay.text + "\n")
        targets = list(range(len(ids) - 1))
        # Then questions about it, each in the suffix `ask` puts after a document, each answered: the asked
        # name is ~45 tokens back when the code starts, so the query has to carry it (as in stage 3).
        for needle in rng.sample(needles, min(len(needles), self.questions)):
            ids += build_prompt(self.tok, Task("ask", question_for(needle.name))).suffix
            targets += self._answer(ids, needle.code)
        return ids, targets

    def _haystack(self, doc_tokens: int, count: tuple[int, int], repeat: float):
        """(needles, repeats, haystack): `count` needles, each stated again later with probability `repeat`.
        A repeat's code is predictable only by finding the first statement (the look-up answering needs)."""
        rng = self.rng
        self._filler_seed += 1
        needles = draw_needles(rng, rng.random(), rng.randint(*count))
        repeats = [Needle(n.name, n.code, rng.uniform(n.depth, 1.0)) for n in needles
                   if repeat and rng.random() < repeat]
        hay = build_haystack(filler_units(self._filler_seed), doc_tokens, needles + repeats, self.count)
        return needles, repeats, hay

    def _answer(self, ids: list[int], code: str) -> range:
        """Append the code and the end token to ids; the positions that predict them."""
        start = len(ids)
        ids += self.tok.encode(code) + self.tok.eos_token_ids[:1]
        return range(start - 1, len(ids) - 1)

    def one(self, doc_tokens: int) -> tuple[list[int], list[int]]:
        """(ids, positions whose next token is supervised)."""
        rng = self.rng
        _, repeats, hay = self._haystack(doc_tokens, (1, 4), 0.5 if self.repeats else 0.0)
        text = hay.text + "\n"  # ingestion ends the last line with a newline
        if rng.random() < 0.5:  # read from a file: the header line ingestion puts first
            name = rng.choice(["haystack.txt", "notes.txt", "doc.md", "input.log", "a/b/c.txt", "haystack-7.txt"])
            text = f"=== {name} ===\n" + text
        ask = build_prompt(self.tok, Task("ask", hay.question))
        prefix = ask.prefix if rng.random() < 0.5 else self.read_prefix
        ids = prefix + self.document(text) + ask.suffix
        start = len(ids)
        targets = list(self._answer(ids, hay.asked.code))
        for rep in repeats:
            code = self.tok.encode(rep.code)
            found = [i for i in range(start - len(code)) if ids[i : i + len(code)] == code]
            if len(found) >= 2:
                targets += range(found[1] - 1, found[1] + len(code) - 1)
        return ids, targets

    def copies(self, size: int, n: int = 32) -> tuple[torch.Tensor, torch.Tensor]:
        """Stage 1: n random tokens, then the same n again, the loss on the second half. Only attention can
        do this (the pure SSM stays at chance), and the head it forms (find the earlier occurrence, copy what
        followed) is the one needle retrieval needs: without this stage the hybrid sat at chance for over a
        thousand steps (one random start, hidden 64; see TRAINING.md)."""
        low = len(SPECIALS) + 32
        x = torch.randint(low, self.tok.vocab_size, (size, n), generator=self.gen)
        ids = torch.cat([x, x], dim=1)
        labels = ids.clone()
        labels[:, : n + 1] = -100
        return ids, labels

    def batch(self, size: int, doc_tokens: int, dense: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
        """input ids (b, l) and labels (b, l) with -100 where there is no loss; right-padded to one length.
        labels[i] is the token at i (transformers shifts them), so a target position t supervises ids[t + 1]."""
        rows = [(self.dense if dense else self.one)(doc_tokens) for _ in range(size)]
        length = max(len(ids) for ids, _ in rows)
        pad = self.tok.pad_token_id
        ids = torch.full((size, length), pad, dtype=torch.long)
        labels = torch.full((size, length), -100, dtype=torch.long)
        for r, (row, targets) in enumerate(rows):
            ids[r, : len(row)] = torch.tensor(row)
            for t in targets:
                labels[r, t + 1] = row[t + 1]
        return ids, labels


def make_model(arch: str, tokenizer: Tokenizer, args):
    from transformers import BambaConfig, BambaForCausalLM

    config = BambaConfig(
        vocab_size=tokenizer.vocab_size, hidden_size=args.hidden, intermediate_size=2 * args.hidden,
        num_hidden_layers=4, attn_layer_indices=[args.attention_layer] if arch == "hybrid" else [],
        num_attention_heads=args.heads, num_key_value_heads=args.heads, mamba_n_heads=8, mamba_n_groups=1, mamba_d_state=16,
        mamba_d_conv=4, mamba_expand=2, mamba_chunk_size=16, max_position_embeddings=args.context,
        bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_ids[0],
        pad_token_id=tokenizer.pad_token_id, tie_word_embeddings=True,
    )
    torch.manual_seed(args.seed)
    return BambaForCausalLM(config)


def accuracy(model, ids: torch.Tensor, labels: torch.Tensor) -> float:
    """Share of rows whose answer tokens are all the argmax (teacher-forced, as greedy decoding would be)."""
    with torch.no_grad():
        logits = model(input_ids=ids, use_cache=False).logits[:, :-1]
    target = labels[:, 1:]
    mask = target != -100
    right = (logits.argmax(-1) == target) | ~mask
    return right.all(dim=1).float().mean().item()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--arch", choices=("hybrid", "mamba"), required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--copy-steps", type=int, default=300, help="stage 1: copying random tokens")
    parser.add_argument("--dense-steps", type=int, default=800, help="stage 2: documents of needles, every token")
    parser.add_argument("--steps", type=int, default=1200, help="stage 3: the pipeline's layout, answers")
    parser.add_argument("--batch", type=int, default=32, help="rows per step in stages 1 and 2")
    parser.add_argument("--ask-batch", type=int, default=16, help="rows per step in stage 3")
    parser.add_argument("--length", type=int, default=512, help="longest haystack trained on, in tokens")
    parser.add_argument("--hidden", type=int, default=64)
    parser.add_argument("--heads", type=int, default=1, help="attention heads of the hybrid's attention layer")
    parser.add_argument("--attention-layer", type=int, default=2, choices=range(4), help="which of the 4 layers")
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--vocab", type=int, default=4096, help="BPE vocabulary cap (the corpus runs out of merges below it)")
    parser.add_argument("--context", type=int, default=16384, help="max_position_embeddings written in config")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--questions", type=int, default=3, help="questions after each stage-2 document")
    parser.add_argument("--log-every", type=int, default=100)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)

    tokenizer = build_tokenizer(args.out, args.vocab, args.seed)
    model = make_model(args.arch, tokenizer, args)
    params = sum(p.numel() for p in model.parameters())
    print(f"{args.arch}: {params:,} parameters, vocab {tokenizer.vocab_size}", flush=True)
    data = Examples(tokenizer, args.seed + 1, questions=args.questions)
    held_out = Examples(tokenizer, args.seed + 10_000, repeats=False).batch(32, args.length)
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.01, betas=(0.9, 0.98))
    total = args.copy_steps + args.dense_steps + args.steps
    warmup = min(100, total // 10)

    def lr_at(step: int) -> float:  # warm-up, then a cosine to a tenth of --lr over all three stages
        if step < warmup:
            return args.lr * (step + 1) / warmup
        return args.lr * (0.1 + 0.45 * (1 + math.cos(math.pi * (step - warmup) / max(1, total - warmup))))

    start = time.time()
    model.train()
    for step in range(total):
        if step < args.copy_steps:
            stage, ids, labels = "copy", *data.copies(args.batch)
        elif step < args.copy_steps + args.dense_steps:
            stage, ids, labels = "dense", *data.batch(args.batch, data.rng.randint(50, 100), dense=True)
        else:
            # Short haystacks first, the full length from half-way through the stage on.
            ramp = min(1.0, (step - args.copy_steps - args.dense_steps) / (0.5 * args.steps))
            top = max(128, int(args.length * ramp))
            stage, ids, labels = "ask", *data.batch(args.ask_batch, data.rng.randint(32, top))
        for group in opt.param_groups:
            group["lr"] = lr_at(step)
        loss = model(input_ids=ids, labels=labels, use_cache=False).loss
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        if step % args.log_every == 0 or step == total - 1:
            line = f"step {step:5d}  {stage:5s} len {ids.shape[1]:4d}  loss {loss.item():.4f}"
            if stage == "ask" or step == total - 1:
                model.eval()
                line += f"  held-out@{args.length} {accuracy(model, *held_out):.3f}"
                model.train()
            print(f"{line}  {time.time() - start:6.0f}s", flush=True)
    model.eval()
    final = accuracy(model, *held_out)
    save(model, args, total, params, time.time() - start, final)
    print(f"saved to {args.out}: held-out {final:.3f}", flush=True)
    return 0


def save(model, args, steps: int, params: int, seconds: float, held_out: float):
    """Weights (safetensors) beside the tokenizer, and TRAINING.md with the command that made them."""
    out = args.out
    model.save_pretrained(out, safe_serialization=True)
    command = (f"python examples/train_recall.py --arch {args.arch} --out {out} --seed {args.seed} "
               f"--copy-steps {args.copy_steps} --dense-steps {args.dense_steps} --steps {args.steps} "
               f"--batch {args.batch} --ask-batch {args.ask_batch} --length {args.length} --hidden {args.hidden} "
               f"--heads {args.heads} --attention-layer {args.attention_layer} --questions {args.questions} "
               f"--lr {args.lr} --vocab {args.vocab} --context {args.context} "
               f"--threads {args.threads}")
    (out / "TRAINING.md").write_text(
        f"# {out.name}\n\nMade by\n\n    {command}\n\n(seed {args.seed}, {args.threads} torch thread(s), "
        f"torch {torch.__version__}; the same command on the same versions should give the same weights: "
        "fixed seeds, deterministic data, not checked by a second full run).\n\n"
        f"{args.arch}: {params:,} parameters; {steps} steps ({args.copy_steps} copying, {args.dense_steps} "
        f"needle documents, {args.steps} pipeline-layout haystacks of up to {args.length} tokens); "
        f"{seconds:.0f} s on a shared 2-vCPU machine.\n"
        f"Held-out teacher-forced exact match at {args.length} tokens: {held_out:.3f} (32 haystacks).\n"
        "Evaluate it through the real pipeline with `ssmdoc eval --model <this folder>` (docs/eval.md).\n"
    )


if __name__ == "__main__":
    raise SystemExit(main())
