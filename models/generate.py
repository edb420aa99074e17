"""Token generation: prefill a prompt into the state, then decode one token at a time.

The model contract (docs/internals.md): `model(ids, state=state, logits="last")` consumes `ids` (1, length),
advances `state` in place and returns the logits of the last position, shape (1, 1, vocab).

Sampling follows transformers' logits processors, in their order: repetition penalty (also when greedy),
then temperature, top-k, top-p, then a multinomial draw from a `torch.Generator` seeded with `seed`
(`seed=None` draws a random seed). Scores are float32 whatever the model dtype, as in transformers.

The state after `generate`: it has consumed the prompt and every generated token except the last sampled one
(which ended generation and was never fed back), exactly as transformers' generate leaves its cache. An EOS
token is never fed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import torch

from .errors import GenerationError


@dataclass(frozen=True)
class GenerationConfig:
    max_new_tokens: int = 256  # counts every sampled token, EOS and stop-string tokens included
    temperature: float = 0.0  # 0 = greedy (argmax); > 0 = sampling with logits / temperature
    top_p: float = 1.0  # nucleus sampling: keep the smallest set of tokens with probability >= top_p
    top_k: int = 0  # keep only the k most likely tokens; 0 = off
    repetition_penalty: float = 1.0  # CTRL-style: seen tokens' logits divided (>0) or multiplied (<0) by it
    seed: int | None = None  # sampling seed; None = nondeterministic
    stop_strings: tuple[str, ...] = ()  # stop when the generated text contains one (needs the tokenizer)
    eos_token_ids: tuple[int, ...] = ()  # () = the tokenizer's eos ids, or the model config's without one

    def __post_init__(self):
        # Lists are accepted for convenience and frozen into tuples (the dataclass is hashable).
        object.__setattr__(self, "stop_strings", tuple(self.stop_strings))
        object.__setattr__(self, "eos_token_ids", tuple(int(i) for i in self.eos_token_ids))
        if self.max_new_tokens < 0:
            raise GenerationError(f"max_new_tokens must be >= 0, got {self.max_new_tokens}")
        if self.temperature < 0:
            raise GenerationError(f"temperature must be >= 0 (0 = greedy), got {self.temperature}")
        if not 0.0 < self.top_p <= 1.0:
            raise GenerationError(f"top_p must be in (0, 1], got {self.top_p}")
        if self.top_k < 0:
            raise GenerationError(f"top_k must be >= 0 (0 = off), got {self.top_k}")
        if self.repetition_penalty <= 0:
            raise GenerationError(f"repetition_penalty must be > 0 (1 = off), got {self.repetition_penalty}")
        if any(not s for s in self.stop_strings):
            raise GenerationError("stop strings must be non-empty")


@dataclass
class Finish:
    """Why generation ended; the return value of the `generate` generator (StopIteration.value)."""

    reason: str  # "eos" | "stop_string" | "length"
    stop_string: str | None = None
    # With a stop string: the text between the last yielded token and the stop string (see `generate`).
    tail_text: str = ""


# --- the two model paths ------------------------------------------------------------------------------------


@torch.no_grad()
def prefill(model, prompt_ids: torch.Tensor, state) -> torch.Tensor:
    """Feed the whole prompt (1, length) through the state; logits of its last position only, (vocab,) float32."""
    logits = model(prompt_ids, state=state, logits="last")  # (1, 1, vocab)
    return logits[0, -1].float()


@torch.no_grad()
def decode_one(model, token_id: int, state, device: torch.device) -> torch.Tensor:
    """Feed one token; logits for the next one, (vocab,) float32."""
    ids = torch.tensor([[token_id]], dtype=torch.long, device=device)  # (1, 1)
    return model(ids, state=state, logits="last")[0, -1].float()


# --- choosing the next token --------------------------------------------------------------------------------


def process_logits(scores: torch.Tensor, seen: torch.Tensor | None, config: GenerationConfig) -> torch.Tensor:
    """transformers' processors on one row of scores (vocab,): repetition penalty, temperature, top-k, top-p.

    `seen` is a bool mask (vocab,) of the tokens that count as repeated. Filtered tokens get -inf.
    """
    if config.repetition_penalty != 1.0 and seen is not None:
        penalised = torch.where(scores < 0, scores * config.repetition_penalty, scores / config.repetition_penalty)
        scores = torch.where(seen, penalised, scores)
    if config.temperature == 0.0:
        return scores  # greedy: the warpers below only matter for sampling
    if config.temperature != 1.0:
        scores = scores / config.temperature
    if config.top_k > 0:
        kth = torch.topk(scores, min(config.top_k, scores.numel())).values[-1]
        scores = scores.masked_fill(scores < kth, float("-inf"))  # ties with the k-th are kept
    if config.top_p < 1.0:
        sorted_scores, order = torch.sort(scores, descending=False)
        cumulative = sorted_scores.softmax(dim=-1).cumsum(dim=-1)
        remove = cumulative <= (1.0 - config.top_p)
        remove[-1] = False  # always keep the most likely token
        scores = scores.masked_fill(remove.scatter(0, order, remove), float("-inf"))
    return scores


def choose(scores: torch.Tensor, config: GenerationConfig, generator: torch.Generator | None) -> int:
    """Pick the next token from processed scores: argmax when greedy, else a draw from their softmax."""
    if config.temperature == 0.0:
        return int(torch.argmax(scores))
    probs = scores.softmax(dim=-1)[None]  # (1, vocab): the shape transformers draws from, same stream per seed
    return int(torch.multinomial(probs, 1, generator=generator))


# --- stop strings -------------------------------------------------------------------------------------------


class _StopStringWatch:
    """Holds back generated tokens whose text may be the start of a stop string.

    Each token's text comes from an incremental decoder; a token whose bytes do not yet complete a character
    has no end offset until they do. A token is released once its text ends before any possible stop string.
    """

    def __init__(self, tokenizer, stop_strings: Sequence[str]):
        self._decoder = tokenizer.decoder()
        self._stops = tuple(stop_strings)
        self._longest = max(len(s) for s in self._stops)
        self.text = ""
        self._pending: list[list] = []  # [token_id, end offset in text or None], oldest first
        self._released_end = 0  # text offset where the released tokens' text ends

    def push(self, token_id: int, final: bool = False) -> tuple[list[int], Finish | None]:
        """Add a token (or, with final, flush the decoder); return the tokens safe to yield, and a Finish
        when a stop string is complete."""
        start = max(0, len(self.text) - self._longest + 1)  # a new match must end in the new text
        delta = self._decoder.flush() if final else self._decoder.push(token_id)
        if not final:
            self._pending.append([token_id, None])
        self.text += delta
        if delta or final:
            for entry in self._pending:
                if entry[1] is None:
                    entry[1] = len(self.text)
        hits = [(p, s) for s in self._stops if (p := self.text.find(s, start)) >= 0]
        if hits:
            position, stop = min(hits)
            released = self._release(position)
            return released, Finish("stop_string", stop, self.text[self._released_end : position])
        if final:
            return self._release(len(self.text)), None
        # Keep back the longest end of the text that could still grow into a stop string.
        held = max(
            (k for s in self._stops for k in range(1, min(len(s), len(self.text) + 1)) if self.text.endswith(s[:k])),
            default=0,
        )
        return self._release(len(self.text) - held), None

    def _release(self, limit: int) -> list[int]:
        released = []
        while self._pending and self._pending[0][1] is not None and self._pending[0][1] <= limit:
            token_id, end = self._pending.pop(0)
            released.append(token_id)
            self._released_end = end
        return released


# --- the loop -----------------------------------------------------------------------------------------------


def _device_of(model) -> torch.device:
    param = next(iter(model.parameters()), None) if hasattr(model, "parameters") else None
    return param.device if param is not None else torch.device("cpu")


def _eos_ids(model, config: GenerationConfig, tokenizer) -> set[int]:
    if config.eos_token_ids:
        return set(config.eos_token_ids)
    if tokenizer is not None:
        return set(tokenizer.eos_token_ids)
    return set(getattr(getattr(model, "config", None), "eos_token_ids", None) or ())


def generate(
    model,
    prompt_ids: Sequence[int] | torch.Tensor,
    state,
    config: GenerationConfig,
    tokenizer=None,
    *,
    logits: torch.Tensor | None = None,
) -> Iterator[int]:
    """Generate token ids one at a time, yielding each as soon as it is produced.

    Args:
        prompt_ids: the tokens to feed before generating (list or 1-D/(1, length) tensor). At least one token is
            required, because the next-token logits come from the last prompt position; when the state already
            holds the whole context, keep its last token out of the state and pass it here, or pass the
            logits of that last position as `logits` (then `prompt_ids` may be empty).
        state: an InferenceState of batch size 1, advanced in place.
        tokenizer: needed for stop strings; also supplies the eos ids when `config.eos_token_ids` is empty.
        logits: optional next-token logits (vocab,) of the context already in the state.

    The repetition penalty counts `prompt_ids` and the generated tokens as seen (transformers counts its
    whole input); context that is only in the state is not known here and does not count.

    Ends on an EOS id (not yielded), on `max_new_tokens`, or on a stop string. Stop strings are checked on the
    decoded text after every token. Tokens whose text could be the beginning of a stop string are held back
    until it is clear they are not; when a stop string completes, only the tokens whose text ends before it
    are yielded. A token that straddles the boundary (text before the stop string + its start, e.g. ".\\n"
    for the stop string "\\nUser:") is NOT yielded; the text it carried before the stop string is returned as
    `Finish.tail_text`, and `stream_text` emits it, so the text output ends exactly where the stop string starts.

    Returns (as the generator's return value) a `Finish` saying why it ended.
    """
    device = _device_of(model)
    prompt = torch.as_tensor(prompt_ids, dtype=torch.long).reshape(1, -1).to(device)  # (1, length)
    if config.stop_strings and tokenizer is None:
        raise GenerationError("stop strings need the tokenizer: pass tokenizer= to generate()")
    if prompt.shape[1] == 0 and logits is None:
        raise GenerationError("generate() needs at least one prompt token, or the logits of the last context position")

    if config.max_new_tokens == 0:  # still consume the prompt, so the state is what the caller expects
        if prompt.shape[1]:
            with torch.no_grad():
                model(prompt, state=state, logits="none")
        return Finish("length")
    scores = prefill(model, prompt, state) if prompt.shape[1] else logits.reshape(-1).float()

    eos = _eos_ids(model, config, tokenizer)
    generator = None
    if config.temperature > 0:
        generator = torch.Generator(device=scores.device)
        if config.seed is not None:
            generator.manual_seed(config.seed)
        else:
            generator.seed()
    seen = None
    if config.repetition_penalty != 1.0:
        seen = torch.zeros(scores.shape[-1], dtype=torch.bool, device=scores.device)
        context = prompt[0][prompt[0] < scores.shape[-1]]
        seen[context.to(scores.device)] = True
    watch = _StopStringWatch(tokenizer, config.stop_strings) if config.stop_strings else None

    for step in range(config.max_new_tokens):
        token = choose(process_logits(scores, seen, config), config, generator)
        if token in eos:
            finish = Finish("eos")
            break
        if watch is None:
            yield token
        else:
            released, finish = watch.push(token)
            yield from released
            if finish is not None:
                return finish
        if seen is not None:
            seen[token] = True
        if step + 1 < config.max_new_tokens:
            scores = decode_one(model, token, state, device)
    else:
        finish = Finish("length")
    if watch is not None:  # release what was held back, unless the decoder's last bytes complete a stop string
        released, stopped = watch.push(-1, final=True)
        yield from released
        finish = stopped or finish
    return finish


def stream_text(model, prompt_ids, state, config: GenerationConfig, tokenizer, **kwargs) -> Iterator[str]:
    """`generate` as text: yields decoded pieces as they complete, ending exactly where a stop string starts."""
    decoder = tokenizer.decoder()
    tokens = generate(model, prompt_ids, state, config, tokenizer, **kwargs)
    while True:
        try:
            token = next(tokens)
        except StopIteration as stop:
            finish: Finish = stop.value
            break
        if piece := decoder.push(token):
            yield piece
    if tail := decoder.flush() + finish.tail_text:
        yield tail


def generate_text(
    model,
    prompt_ids,
    state,
    config: GenerationConfig,
    tokenizer,
    on_text: Callable[[str], None] | None = None,
    **kwargs,
) -> str:
    """Callback style: calls `on_text(piece)` as text completes and returns the whole generated text."""
    pieces = []
    for piece in stream_text(model, prompt_ids, state, config, tokenizer, **kwargs):
        if on_text is not None:
            on_text(piece)
        pieces.append(piece)
    return "".join(pieces)


__all__ = ["Finish", "GenerationConfig", "decode_one", "generate", "generate_text", "prefill", "stream_text"]
