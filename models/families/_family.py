"""What one model family declares, in one place: the `Family` record a family module exports."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ..config import ModelConfig

# (checkpoint-name regex, ssmdoc parameter name); see loader._targets for the special targets
NameRules = list[tuple[str, str]]


def name_table(text: str, **names: str) -> NameRules:
    """Rules written as a table, one `regex  replacement` per line (lines starting with # are comments);
    `{KEY}` stands for names[KEY] in either column. Applied in order; the first match wins."""
    rules = []
    for line in text.splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            pattern, replacement = line.split()
            for key, value in names.items():
                pattern, replacement = (s.replace("{" + key + "}", value) for s in (pattern, replacement))
            rules.append((pattern, replacement))
    return rules


@dataclass(frozen=True)
class Family:
    """One architecture ssmdoc runs. A family module exports `FAMILIES = [Family(...), ...]`."""

    architecture: str  # the HF class name config.json lists under "architectures", e.g. "JambaForCausalLM"
    model_type: str  # config.json "model_type", for exports without "architectures"
    parse: Callable[[dict, str], ModelConfig]  # (config.json dict, architecture) -> ModelConfig
    weight_names: NameRules | Callable[[ModelConfig], NameRules]  # a callable when the map depends on the layout
    layout: str  # one line for `ssmdoc models`: what the layers are
    # checkpoints `ssmdoc models` recommends: (repo id, note, place in that list, lower first)
    recommended: tuple[tuple[str, str, int], ...] = ()
    rank: int = 100  # place in the list of architectures (built-ins: the order they were added in)
    ignored_tensors: tuple[str, ...] = ()  # checkpoint-name regexes the loader skips (tensors never read)
    # parameter-name regexes kept in float32 whatever the load dtype (the slot issue 11 fills; empty: none)
    fp32_params: tuple[str, ...] = ()

    def name_rules(self, config: ModelConfig) -> NameRules:
        return self.weight_names(config) if callable(self.weight_names) else self.weight_names
