"""The pipeline as a library: prompts around the document, windows, Ctrl-C while reading, map-reduce, watch."""

import io
import json

import pytest

import ssmdoc.pipeline.mapreduce as mapreduce
from ssmdoc.ingest import Segment, Source
from ssmdoc.pipeline import GenOptions, RunOptions, Task, WatchOptions, build_prompt, load_engine, read, respond, run
from ssmdoc.pipeline.engine import Meter
from ssmdoc.pipeline.reading import Piece, WindowReader
from ssmdoc.pipeline.watch import watch
from ssmdoc.report import Report


@pytest.fixture(scope="module")
def mamba(mamba_ckpt):
    return load_engine(str(mamba_ckpt), device="cpu")


@pytest.fixture(scope="module")
def jamba(jamba_ckpt):
    return load_engine(str(jamba_ckpt), device="cpu")


def decode(engine, ids):
    return engine.tokenizer.decode(ids, skip_special_tokens=False)


def test_ask_puts_the_question_before_and_after_the_document(mamba):
    prompt = build_prompt(mamba.tokenizer, Task("ask", "who may terminate the agreement?"))
    before, after = decode(mamba, prompt.prefix), decode(mamba, prompt.suffix)
    assert "who may terminate the agreement?" in before and "who may terminate the agreement?" in after
    assert before.startswith("<|bos|><|user|>")  # the checkpoint's chat template frames it
    assert after.endswith("<|assistant|>\n") and prompt.templated


def test_a_checkpoint_without_chat_template_gets_the_plain_fallback(mamba_ckpt, tmp_path):
    import shutil

    for name in ("tokenizer.json", "config.json"):
        shutil.copy(mamba_ckpt / name, tmp_path / name)
    config = json.loads((mamba_ckpt / "tokenizer_config.json").read_text())
    config.pop("chat_template", None)
    (tmp_path / "tokenizer_config.json").write_text(json.dumps(config))
    from ssmdoc.models.tokenizer import Tokenizer

    tok = Tokenizer.from_dir(tmp_path)
    assert not tok.has_chat_template
    prompt = build_prompt(tok, Task("summarize"))
    assert not prompt.templated
    assert "Summarize the document above" in tok.decode(prompt.suffix)


def test_a_template_that_rewrites_the_content_falls_back_to_plain_text(mamba):
    class Sanitizing:  # a template that strips control characters from the message: the sentinel does not survive
        bos_token_id, has_chat_template = 0, True
        encode = staticmethod(mamba.tokenizer.encode)

        @staticmethod
        def apply_chat_template(messages, add_generation_prompt=True):
            return "<|user|>" + messages[0]["content"].replace("\x00", "")

    prompt = build_prompt(Sanitizing, Task("ask", "why?"))
    assert prompt.prefix[0] == 0 and not prompt.templated
    assert "why?" in decode(mamba, prompt.prefix) and "why?" in decode(mamba, prompt.suffix)


def pieces(n_pieces, size, start=10):
    src = Source("file", "doc.txt", line_start=1, line_end=1)
    return [Piece(list(range(start + i, start + i + size)), src) for i in range(n_pieces)]


def test_windows_partition_the_input_exactly(mamba):
    report, prefix = Report(), [0, 5, 6]
    reader = WindowReader(mamba, prefix, chunk_tokens=7, capacity=25, meter=Meter(), report=report)
    windows = list(reader.windows(pieces(6, 13)))  # 78 tokens -> 25 + 25 + 25 + 3
    assert [w.tokens for w in windows] == [25, 25, 25, 3]
    assert [w.final for w in windows] == [False, False, False, True]
    assert all(w.state.seen_tokens == len(prefix) + w.tokens for w in windows)
    assert report.input_tokens == 78 and reader.sources.to_list() == [{"kind": "file", "address": "doc.txt",
                                                                         "tokens": 78}]
    assert report.chunks == 4 * 3 + 1  # ceil(25 / 7) per full window, then one for the last 3


def test_an_input_that_fills_the_last_window_exactly_opens_no_empty_window(mamba):
    reader = WindowReader(mamba, [0], chunk_tokens=10, capacity=20, meter=Meter(), report=Report())
    windows = list(reader.windows(pieces(4, 10)))
    assert [(w.tokens, w.final) for w in windows] == [(20, False), (20, True)]


def test_ctrl_c_while_reading_keeps_what_was_read(mamba):
    def arriving():
        yield Segment("first line of the log\n", Source("stdin", "-", line_start=1, line_end=1))
        yield Segment("second line\n", Source("stdin", "-", line_start=2, line_end=2))
        raise KeyboardInterrupt  # the user pressed Ctrl-C while the next line was awaited

    options = RunOptions(chunk_tokens=4, gen=GenOptions(max_new_tokens=3))
    reading = read(mamba, arriving(), Task("summarize"), options)
    assert reading.last.interrupted
    expected = len(mamba.tokenizer.encode("first line of the log\n")) + len(mamba.tokenizer.encode("second line\n"))
    assert reading.report.input_tokens == expected
    result = respond(mamba, reading, options)
    assert result.read_interrupted and result.report.input_tokens == expected


def test_read_then_respond_is_run(mamba):
    seg = [Segment("alpha beta gamma\n" * 20, Source("file", "a.txt", line_start=1, line_end=20))]
    options = RunOptions(chunk_tokens=16, gen=GenOptions(max_new_tokens=6))
    whole = run(mamba, iter(seg), Task("summarize"), options)
    split = respond(mamba, read(mamba, iter(seg), Task("summarize"), options), options)
    assert whole.output == split.output and whole.report.input_tokens == split.report.input_tokens
    assert whole.to_dict()["sources"] == [{"kind": "file", "address": "a.txt", "tokens": whole.report.input_tokens}]


def test_map_reduce_recurses_until_the_parts_fit(short_jamba_ckpt, monkeypatch):
    engine = load_engine(str(short_jamba_ckpt), device="cpu")
    calls = []
    real = mapreduce.answer
    monkeypatch.setattr(mapreduce, "answer", lambda *a, **k: calls.append(1) or real(*a, **k))
    gen = GenOptions(max_new_tokens=8)
    # 20 parts of 8 tokens (+ a header each) do not fit in one 320-token window with the combine prompt:
    # they are combined by windows, then those outputs once more.
    parts = [mapreduce.Partial(list(range(100, 108)), "", f"log:{i}", f"log:{i}") for i in range(20)]
    report = Report()
    out = mapreduce.combine(engine, Task("summarize"), parts, 64, gen, Meter(), report)
    assert 3 <= len(calls) <= 6  # several window combines, then the final one
    assert isinstance(out.text, str) and report.chunks == 0  # parts are not document chunks


def test_map_reduce_refuses_answers_too_long_to_combine_before_answering_any(short_jamba_ckpt, monkeypatch):
    from ssmdoc.errors import UsageError

    engine = load_engine(str(short_jamba_ckpt), device="cpu")
    monkeypatch.setattr(mapreduce, "answer", lambda *a, **k: pytest.fail("answered a window first"))
    import ssmdoc.pipeline.document as document

    monkeypatch.setattr(document, "answer", lambda *a, **k: pytest.fail("answered a window first"))
    text = "word " * 400
    options = RunOptions(chunk_tokens=256, gen=GenOptions(max_new_tokens=100))
    with pytest.raises(UsageError, match="too short to combine"):
        run(engine, iter([Segment(text, Source("stdin", "-"))]), Task("summarize"), options)


def test_watch_digests_do_not_disturb_the_reading_state(jamba):
    log = "".join(f"02:00:{i:02d} INFO worker-{i % 3}: job {i} done\n" for i in range(30))
    gen = GenOptions(max_new_tokens=6)
    plain = watch(jamba, io.BytesIO(log.encode()), WatchOptions(window=48, chunk_tokens=32, gen=gen))
    digests = []
    digested = watch(jamba, io.BytesIO(log.encode()), WatchOptions(every=7, window=48, chunk_tokens=32, gen=gen),
                     on_digest=lambda i, lines, final: digests.append((i, lines, final)))
    assert digests == [(0, 7, False), (1, 14, False), (2, 21, False), (3, 28, False), (4, 30, True)]
    # Same reading, whether or not digests were generated on the side (greedy decoding).
    assert digested.output == plain.output
    assert digested.report.input_tokens == plain.report.input_tokens == len(jamba.tokenizer.encode(log))
    # The attention window bounds the KV: 48 tokens x 2 attention layers x 2 (k, v) x 2 heads x 8 dims x 4 bytes.
    assert digested.report.state_bytes["kv"] <= (48 + 32) * 2 * 2 * 2 * 8 * 4
    assert digested.report.strategy == "sliding-window"


def test_watch_interval_digests_while_the_writer_is_quiet(mamba):
    import time

    class SlowWriter(io.RawIOBase):
        """Ten lines, a pause longer than the interval, five more lines, then EOF."""

        def __init__(self):
            self.parts = [b"".join(b"INFO line %d\n" % i for i in range(10)), None,
                          b"".join(b"WARN line %d\n" % i for i in range(10, 15))]

        def readable(self):
            return True

        def read1(self, n=-1):
            if not self.parts:
                return b""
            part = self.parts.pop(0)
            if part is None:
                time.sleep(1.5)
                return self.read1(n)
            return part

        read = read1

    events = []
    result = watch(mamba, SlowWriter(), WatchOptions(interval=0.5, gen=GenOptions(max_new_tokens=2)),
                   on_digest=lambda i, lines, final: events.append((lines, final)))
    # A digest of the first ten lines came during the pause (no new line arrived to trigger it), and no
    # digest repeats while nothing new is read; the final summary covers all fifteen.
    assert events[0] == (10, False) and events[-1] == (15, True)
    assert events.count((10, False)) == 1
    assert result.report.input_tokens > 0


def test_special_token_text_in_a_document_is_read_as_plain_text(mamba):
    tok = mamba.tokenizer
    eos = tok.eos_token_ids[0]
    text = "the model emits <|eos|> then <|assistant|> in this file\n"
    assert eos in tok.encode(text)  # what a chat template's own text needs...
    seg = Segment(text, Source("file", "notes.txt", line_start=1, line_end=1))
    reading = read(mamba, iter([seg]), Task("summarize"), RunOptions(gen=GenOptions(max_new_tokens=1)))
    ids = tok.encode(text, parse_special=False)
    assert eos not in ids and tok.decode(ids) == text  # ...but a document must not end the turn
    assert reading.report.input_tokens == len(ids)


def test_answering_stops_at_an_eos_token(mamba, monkeypatch):
    """answer() runs models.generate's loop: an EOS token ends the answer, is not part of it, and costs a
    decode step."""
    import torch

    from ssmdoc.pipeline.answering import answer

    suffix = build_prompt(mamba.tokenizer, Task("summarize")).suffix
    start = mamba.model.new_state()
    mamba.model(torch.tensor([mamba.tokenizer.encode("a short text to read")]), state=start, logits="none")
    gen = GenOptions(max_new_tokens=6, repetition_penalty=50.0)  # greedy alone repeats one token
    free = answer(mamba, start.clone(), suffix, gen, Meter(), Report())
    assert free.finish == "length" and len(free.ids) == 6
    # the first token not generated before it: make it the EOS token
    i = next(i for i in range(1, 6) if free.ids[i] not in free.ids[:i])
    monkeypatch.setattr(mamba.config, "eos_token_ids", [free.ids[i]])
    meter = Meter()
    stopped = answer(mamba, start.clone(), suffix, gen, meter, Report())
    assert stopped.finish == "eos" and stopped.ids == free.ids[:i]
    assert stopped.text == mamba.tokenizer.decode(free.ids[:i]) and meter.decode_tokens == i + 1
