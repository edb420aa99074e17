"""The log-prob score against transformers (the oracle): the same number from one full forward pass."""

import pytest
import torch

from ssmdoc.eval import EvalOptions
from ssmdoc.eval.runner import Case, code_logprob, make_haystack
from ssmdoc.pipeline import Task, build_prompt, load_engine
from ssmdoc.pipeline.engine import Meter, feed


def test_code_logprob_matches_a_full_transformers_forward(random_hybrid):
    from transformers import AutoModelForCausalLM

    engine = load_engine(str(random_hybrid), device="cpu")
    tok = engine.tokenizer
    hay = make_haystack(tok, EvalOptions(lengths=[150], trials=1), Case(150, 0.5, 0))
    prompt = build_prompt(tok, Task("ask", hay.question))
    doc = tok.encode(hay.text, parse_special=False)
    state = engine.model.new_state()
    feed(engine, prompt.prefix + doc, state, Meter())
    ours = code_logprob(engine, state, prompt.suffix, hay.asked.code)

    code = tok.encode(hay.asked.code)
    ids = prompt.prefix + doc + prompt.suffix + code
    ref = AutoModelForCausalLM.from_pretrained(random_hybrid, dtype=torch.float32).eval()
    with torch.no_grad():
        logits = ref(input_ids=torch.tensor([ids]), use_cache=False).logits[0].float()
    logp = torch.log_softmax(logits[len(ids) - len(code) - 1 : -1], dim=-1)
    expected = float(logp[torch.arange(len(code)), torch.tensor(code)].sum())
    assert len(code) == 2 and ours == pytest.approx(expected, abs=2e-3)  # six digits: two tokens of three
