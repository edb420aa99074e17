"""The tasks as a library: summarize, ask and watch over the engine, usable without the CLI.

    from ssmdoc.ingest import iter_segments
    from ssmdoc.pipeline import GenOptions, RunOptions, Task, load_engine, run

    engine = load_engine("ai21labs/AI21-Jamba2-3B")          # or a checkpoint directory
    result = run(engine, iter_segments(["repo/"]), Task("ask", "where is auth?"),
                 RunOptions(chunk_tokens=2048, gen=GenOptions(max_new_tokens=256)),
                 on_text=lambda text: print(text, end="", flush=True))
    result.report.to_dict()   # what was read and what it cost

Reading and answering are separate steps (`read`, then `respond`) so that a saved state can replace reading.
"""

from ssmdoc.pipeline.answering import Answer, GenOptions, answer
from ssmdoc.pipeline.document import Reading, RunOptions, TaskResult, read, respond, run
from ssmdoc.pipeline.engine import Engine, load_engine
from ssmdoc.pipeline.prompts import Task, build_prompt
from ssmdoc.pipeline.watch import WatchOptions, watch

__all__ = [
    "Answer", "Engine", "GenOptions", "Reading", "RunOptions", "Task", "TaskResult", "WatchOptions",
    "answer", "build_prompt", "load_engine", "read", "respond", "run", "watch",
]
