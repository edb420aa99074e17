"""ssmdoc.models.generate with fake models, and greedy parity with transformers on tiny checkpoints.

The fakes honour the engine's contract, `model(ids, state=state, logits="all"|"last"|"none")`, and record
every token they are fed, so the tests see exactly what generate() sends through the state.
"""

from __future__ import annotations

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tiny_tokenizer import CORPUS, build_tokenizer

from ssmdoc.models.errors import GenerationError
from ssmdoc.models.generate import (
    GenerationConfig,
    generate,
    generate_text,
    process_logits,
    stream_text,
)
from ssmdoc.models.tokenizer import Tokenizer

VOCAB = 512
EOS = 1


class FakeState:
    def __init__(self):
        self.fed: list[int] = []  # every token the model consumed, in order
        self.calls: list[int] = []  # the length of each call's input


class MarkovLM(torch.nn.Module):
    """Next-token logits depend on the last token only: a fixed random table, so outputs are predictable."""

    def __init__(self, seed: int = 0, scale: float = 3.0):
        super().__init__()
        gen = torch.Generator().manual_seed(seed)
        self.table = torch.nn.Parameter(scale * torch.randn(VOCAB, VOCAB, generator=gen))
        self.table.data[:, EOS] = -1e4  # never ends by itself unless a test wants it

    def new_state(self):
        return FakeState()

    def forward(self, ids, state=None, logits="all"):
        assert ids.dim() == 2 and ids.shape[0] == 1 and ids.dtype == torch.long
        state.fed += ids[0].tolist()
        state.calls.append(ids.shape[1])
        out = self.table[ids]  # (1, length, vocab)
        return {"all": out, "last": out[:, -1:], "none": None}[logits]


class ScriptedLM(MarkovLM):
    """Emits a fixed script of tokens after a prompt of known length, whatever it is fed."""

    def __init__(self, script: list[int], prompt_length: int):
        super().__init__()
        self.script, self.prompt_length = list(script), prompt_length

    def forward(self, ids, state=None, logits="all"):
        super().forward(ids, state, logits="none")
        position = len(state.fed) - self.prompt_length
        out = torch.zeros(1, 1, VOCAB)
        out[0, 0, self.script[position] if position < len(self.script) else EOS] = 10.0
        return out if logits == "last" else None


@pytest.fixture(scope="module")
def tokenizer(tmp_path_factory) -> Tokenizer:
    return Tokenizer.from_dir(build_tokenizer(tmp_path_factory.mktemp("tok")))


def run(model, prompt, config, tokenizer=None, **kwargs):
    state = model.new_state()
    return list(generate(model, prompt, state, config, tokenizer, **kwargs)), state


def greedy_chain(model: MarkovLM, last: int, n: int) -> list[int]:
    """What greedy decoding must produce, computed from the table directly."""
    out = []
    for _ in range(n):
        last = int(model.table[last].argmax())
        out.append(last)
    return out


# --- the loop -----------------------------------------------------------------------------------------------


def test_greedy_prefills_once_then_decodes_token_by_token():
    model = MarkovLM()
    prompt = [5, 17, 42, 99]
    tokens, state = run(model, prompt, GenerationConfig(max_new_tokens=6))
    assert tokens == greedy_chain(model, 99, 6)
    assert state.calls == [4, 1, 1, 1, 1, 1]  # one prefill of the whole prompt, then one token per call
    assert state.fed == prompt + tokens[:-1]  # the last token ends generation and is not fed


def test_tokens_are_streamed_as_they_are_produced():
    model = MarkovLM()
    state = model.new_state()
    stream = generate(model, [3], state, GenerationConfig(max_new_tokens=50))
    first = next(stream)
    assert first == greedy_chain(model, 3, 1)[0] and state.calls == [1]  # nothing computed ahead


def test_max_new_tokens_zero_still_consumes_the_prompt():
    model = MarkovLM()
    tokens, state = run(model, [3, 4], GenerationConfig(max_new_tokens=0))
    assert tokens == [] and state.fed == [3, 4]


def test_empty_prompt_needs_the_last_logits():
    model = MarkovLM()
    with pytest.raises(GenerationError, match="at least one prompt token"):
        run(model, [], GenerationConfig(max_new_tokens=3))
    # The state already holds the context; the caller kept the logits of its last position.
    tokens, state = run(model, [], GenerationConfig(max_new_tokens=3), logits=model.table[99][None, None])
    assert tokens == greedy_chain(model, 99, 3) and state.fed == tokens[:-1]


def test_stops_on_any_eos_without_yielding_it(tokenizer):
    model = ScriptedLM([10, 11, 12, 7, 13], prompt_length=1)
    tokens, state = run(model, [4], GenerationConfig(max_new_tokens=9, eos_token_ids=(7, 9)))
    assert tokens == [10, 11, 12] and 7 not in state.fed
    # Without explicit eos ids, the tokenizer's (<|eos|> = 1), which ends this script after its five tokens.
    tokens, _ = run(model, [4], GenerationConfig(max_new_tokens=9), tokenizer)
    assert tokens == [10, 11, 12, 7, 13]


# --- sampling -----------------------------------------------------------------------------------------------


def test_seed_reproducible_and_seeds_differ():
    model = MarkovLM(scale=1.0)
    config = GenerationConfig(max_new_tokens=20, temperature=1.0, seed=1234)
    first, _ = run(model, [3], config)
    again, _ = run(model, [3], config)
    other, _ = run(model, [3], GenerationConfig(max_new_tokens=20, temperature=1.0, seed=99))
    assert first == again and first != other


@pytest.mark.parametrize("config", [dict(top_k=1), dict(top_p=1e-6), dict(temperature=1e-4)])
def test_degenerate_sampling_equals_greedy(config):
    model = MarkovLM(scale=1.0)
    greedy, _ = run(model, [3], GenerationConfig(max_new_tokens=15))
    sampled, _ = run(model, [3], GenerationConfig(max_new_tokens=15, seed=0, **({"temperature": 1.0} | config)))
    assert sampled == greedy


def test_top_k_only_draws_from_the_k_best():
    model = MarkovLM(scale=0.5)  # flat: without top-k almost every draw would be outside the top 3
    tokens, state = run(model, [3], GenerationConfig(max_new_tokens=40, temperature=1.0, top_k=3, seed=5))
    previous = state.fed[:1] + tokens[:-1]
    for last, token in zip(previous, tokens):
        assert token in model.table[last].topk(3).indices.tolist()


def test_repetition_penalty_avoids_repeats():
    model = MarkovLM()
    model.table.data[:, 77] = 30.0  # every step strongly prefers token 77
    plain, _ = run(model, [3], GenerationConfig(max_new_tokens=8))
    assert plain == [77] * 8
    penalised, _ = run(model, [3], GenerationConfig(max_new_tokens=8, repetition_penalty=100.0))
    assert penalised[0] == 77 and penalised.count(77) == 1
    # The prompt counts as seen too, as in transformers.
    from_prompt, _ = run(model, [77], GenerationConfig(max_new_tokens=3, repetition_penalty=100.0))
    assert 77 not in from_prompt


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**16),
    temperature=st.sampled_from([0.0, 0.3, 1.0, 1.7]),
    top_k=st.sampled_from([0, 1, 5, 50]),
    top_p=st.sampled_from([1.0, 0.95, 0.5, 0.1]),
    penalty=st.sampled_from([1.0, 1.3, 0.8]),
)
def test_processors_match_transformers(seed, temperature, top_k, top_p, penalty):
    from transformers.generation import logits_process as lp

    gen = torch.Generator().manual_seed(seed)
    scores = 4 * torch.randn(1, 64, generator=gen)
    history = torch.randint(0, 64, (1, 12), generator=gen)
    config = GenerationConfig(temperature=temperature, top_k=top_k, top_p=top_p, repetition_penalty=penalty)
    expected = scores.clone()
    processors = [lp.RepetitionPenaltyLogitsProcessor(penalty)] if penalty != 1.0 else []
    if temperature > 0:  # transformers applies warpers only when sampling, in this order
        processors += [lp.TemperatureLogitsWarper(temperature)] if temperature != 1.0 else []
        processors += [lp.TopKLogitsWarper(top_k)] if top_k else []
        processors += [lp.TopPLogitsWarper(top_p)] if top_p < 1.0 else []
    for processor in processors:
        expected = processor(history, expected)
    seen = torch.zeros(64, dtype=torch.bool)
    seen[history[0]] = True
    assert torch.allclose(process_logits(scores[0], seen, config), expected[0], rtol=1e-6, atol=0)


# --- stop strings -------------------------------------------------------------------------------------------


def _script_for(tokenizer: Tokenizer, text: str) -> list[int]:
    ids = tokenizer.encode(text)
    assert tokenizer.decode(ids) == text
    return ids


def test_stop_string_ends_text_exactly(tokenizer):
    text = "The answer is 42.\nUser: and more"
    script = _script_for(tokenizer, text)
    model = ScriptedLM(script, prompt_length=1)
    config = GenerationConfig(max_new_tokens=50, stop_strings=("\nUser:",))
    state = model.new_state()
    assert "".join(stream_text(model, [4], state, config, tokenizer)) == "The answer is 42."
    tokens, _ = run(model, [4], config, tokenizer)
    assert tokens == script[: len(tokens)]
    assert "The answer is 42.".startswith(tokenizer.decode(tokens))
    assert "\n" not in tokenizer.decode(tokens)


def test_token_straddling_the_stop_string_is_not_yielded(tokenizer):
    # A stop string starting inside a multi-character token: that token's text before it comes as tail text.
    script = _script_for(tokenizer, " the state the")
    text = tokenizer.decode(script)
    j = next(k for k, i in enumerate(script) if len(tokenizer.decode([i])) >= 3)
    token_start, token_end = len(tokenizer.decode(script[:j])), len(tokenizer.decode(script[: j + 1]))
    stop = text[token_start + 1 : token_end + 1]  # from the token's 2nd character to one past its end
    assert text.find(stop) == token_start + 1
    model = ScriptedLM(script, prompt_length=1)
    config = GenerationConfig(max_new_tokens=50, stop_strings=(stop,))
    tokens, _ = run(model, [4], config, tokenizer)
    assert tokens == script[:j]
    assert "".join(stream_text(model, [4], model.new_state(), config, tokenizer)) == text[: text.find(stop)]


def test_stop_string_inside_a_multibyte_character_is_never_yielded(tokenizer):
    script = _script_for(tokenizer, "ok 日本語 done")
    assert len(script) > len("ok 日本語 done".split())  # the characters span several byte tokens
    model = ScriptedLM(script, prompt_length=1)
    tokens, _ = run(model, [4], GenerationConfig(max_new_tokens=50, stop_strings=("本",)), tokenizer)
    assert tokenizer.decode(tokens) == "ok 日"


def test_partial_stop_string_is_released_at_the_end(tokenizer):
    script = _script_for(tokenizer, "done\nUse")  # ends with a prefix of the stop string, never completed
    model = ScriptedLM(script, prompt_length=1)
    config = GenerationConfig(max_new_tokens=len(script), stop_strings=("\nUser:",))
    tokens, _ = run(model, [4], config, tokenizer)
    assert tokens == script
    pieces = []
    assert generate_text(model, [4], model.new_state(), config, tokenizer, on_text=pieces.append) == "done\nUse"
    assert len(pieces) > 1  # streamed in pieces through the callback


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data(), text=st.lists(st.sampled_from(CORPUS), min_size=1, max_size=2).map(" ".join))
def test_stop_string_property(tokenizer, data, text):
    script = _script_for(tokenizer, text)
    start = data.draw(st.integers(0, len(text) - 1))
    stop = text[start : start + data.draw(st.integers(1, 6))]
    model = ScriptedLM(script, prompt_length=1)
    config = GenerationConfig(max_new_tokens=len(script) + 1, stop_strings=(stop, "\x00never"))
    tokens, _ = run(model, [4], config, tokenizer)
    expected = text[: text.find(stop)]
    assert tokens == script[: len(tokens)]
    assert expected.startswith(tokenizer.decode(tokens))
    assert "".join(stream_text(model, [4], model.new_state(), config, tokenizer)) == expected


def test_bad_configs_are_usage_errors():
    for bad in (dict(temperature=-1), dict(top_p=0.0), dict(top_k=-2), dict(repetition_penalty=0), dict(
            max_new_tokens=-1), dict(stop_strings=("",))):
        with pytest.raises(GenerationError):
            GenerationConfig(**bad)
    with pytest.raises(GenerationError, match="tokenizer"):
        run(MarkovLM(), [3], GenerationConfig(max_new_tokens=2, stop_strings=("x",)))


def test_overlapping_stop_strings_release_what_precedes_the_match(tokenizer):
    # "a" and "b" are held as a possible start of "abc"; then "bd" completes: "a" is still released.
    script = [tokenizer.encode(c)[0] for c in "xabd"]
    model = ScriptedLM(script, prompt_length=1)
    config = GenerationConfig(max_new_tokens=9, stop_strings=("abc", "bd"))
    tokens, _ = run(model, [4], config, tokenizer)
    assert tokens == script[:2]
    assert "".join(stream_text(model, [4], model.new_state(), config, tokenizer)) == "xa"


# --- parity with transformers on tiny random checkpoints ----------------------------------------------------

try:
    from checkpoints import reference_model, tiny_checkpoint

    from ssmdoc.models import load_pretrained
except ImportError as exc:  # the engine is built in parallel; say what is missing rather than fail to import
    ENGINE_MISSING = f"engine not available: {exc}"
else:
    ENGINE_MISSING = None

PARITY_MESSAGES = [{"role": "system", "content": "You read logs."}, {"role": "user", "content": "What failed?"}]


@pytest.fixture(scope="module", params=["mamba", "jamba"])
def tiny_pair(request, tmp_path_factory):
    """(ssmdoc model, transformers model, tokenizer) of one tiny random checkpoint."""
    if ENGINE_MISSING:
        pytest.skip(ENGINE_MISSING)
    path = tiny_checkpoint(tmp_path_factory.mktemp(request.param), request.param)
    return load_pretrained(path), reference_model(path), Tokenizer.from_dir(path)


def _reference_generate(reference, prompt: list[int], **kwargs) -> list[int]:
    ids = torch.tensor([prompt])
    with torch.no_grad():
        out = reference.generate(ids, attention_mask=torch.ones_like(ids), pad_token_id=2, **kwargs)
    new = out[0, len(prompt):].tolist()
    return new[:-1] if new and new[-1] == EOS else new  # transformers keeps the EOS, generate() does not yield it


def test_greedy_generation_matches_transformers(tiny_pair):
    model, reference, tok = tiny_pair
    prompt = tok.encode(tok.apply_chat_template(PARITY_MESSAGES))
    expected = _reference_generate(reference, prompt, max_new_tokens=24, do_sample=False)
    tokens = list(generate(model, prompt, model.new_state(), GenerationConfig(max_new_tokens=24), tok))
    assert tokens == expected
    assert len(expected) >= 5  # a long enough run to mean something


def test_sampling_matches_transformers_with_the_same_seed(tiny_pair):
    # Same processors, same order, same draw from the same seeded CPU generator: the same tokens.
    model, reference, tok = tiny_pair
    prompt = tok.encode(tok.apply_chat_template(PARITY_MESSAGES))
    settings_ = dict(temperature=0.8, top_k=40, top_p=0.9, repetition_penalty=1.2)
    torch.manual_seed(7)
    expected = _reference_generate(reference, prompt, max_new_tokens=16, do_sample=True, **settings_)
    config = GenerationConfig(max_new_tokens=16, seed=7, **settings_)
    assert list(generate(model, prompt, model.new_state(), config, tok)) == expected
