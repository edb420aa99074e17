"""The sampling a checkpoint ships (generation_config.json) is used for what the user leaves unset; what the
user sets wins; without one, decoding is greedy."""

from __future__ import annotations

import json

from checkpoints import tiny_checkpoint
from ssmdoc.pipeline import GenOptions, load_engine


def test_shipped_sampling_fills_what_the_user_leaves_unset(tmp_path):
    path = tiny_checkpoint(tmp_path / "mamba", "mamba")
    engine = load_engine(str(path), device="cpu")
    greedy = GenOptions().config(defaults=engine.generation)
    assert (greedy.temperature, greedy.top_k) == (0.0, 0)  # save_pretrained's generation_config: no do_sample
    (path / "generation_config.json").write_text(json.dumps(
        {"do_sample": True, "temperature": 0.7, "top_p": 0.9, "top_k": 7, "eos_token_id": [1, 3]}))
    shipped = GenOptions().config(defaults=engine.generation)
    assert (shipped.temperature, shipped.top_p, shipped.top_k, shipped.repetition_penalty) == (0.7, 0.9, 7, 1.0)
    mine = GenOptions(temperature=0.0, top_k=0).config(defaults=engine.generation)
    assert (mine.temperature, mine.top_p, mine.top_k) == (0.0, 0.9, 0)
    assert engine.generation.eos_token_ids == (1, 3) and engine.generation.pad_token_id == 1
