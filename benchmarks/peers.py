"""ssmdoc against llama.cpp on the CPU, on the same random checkpoints: one command, from a fresh clone.

    python benchmarks/peers.py                                   # every default shape, 4K, 1 and 2 threads
    python benchmarks/peers.py --shapes jamba-tiny --rounds 2 --lengths 4096,16384 --threads 1

What it does, each step cached under --cache (default ~/.cache/ssmdoc-peers):
1. fetches the llama-cpp-python sdist with pip (it vendors llama.cpp, its convert_hf_to_gguf.py and gguf-py) and
   builds llama.cpp's shared library with cmake, CPU only, Release (needs cmake and a C/C++ compiler);
2. makes random checkpoints with transformers (a test dependency) and converts each with llama.cpp's own
   converter to GGUF (F32, and F16 with --types f32,f16);
3. checks that both engines compute the same model: the last-position logits of a short prompt, top-5 and the
   largest difference, printed and recorded;
4. measures both engines interleaved, each run in its own process, --rounds times: prefill of each length,
   then greedy decode of --decode tokens after it, at each thread count; peak RSS (VmHWM) and RSS after load;
   achieved GFLOP/s (matrix products of the prefill) against a float32 sgemm measured in the same run.
It writes peers.json and peers.md atomically into --out. llama.cpp is driven through its C API (ctypes, the
bindings of the same sdist), so both engines run the same steps in the same kind of Python process.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

SDIST_VERSION = "0.3.36"
HERE = Path(__file__).resolve()

# Random checkpoints: (transformers class, config class, config kwargs). vocab sizes are multiples of 16 so that
# the converter's padding leaves them unchanged.
SHAPES = {
    "mamba1-130m": ("MambaForCausalLM", "MambaConfig", dict(
        vocab_size=50288, hidden_size=768, num_hidden_layers=24, state_size=16, expand=2, conv_kernel=4,
        tie_word_embeddings=True)),
    "mamba2-130m": ("Mamba2ForCausalLM", "Mamba2Config", dict(
        vocab_size=50288, hidden_size=768, num_hidden_layers=24, state_size=128, head_dim=64, num_heads=24,
        expand=2, n_groups=1, conv_kernel=4, chunk_size=256, tie_word_embeddings=True)),
    "jamba-tiny": ("JambaForCausalLM", "JambaConfig", dict(  # benchmarks/cpu_prefill.py's model
        vocab_size=1024, hidden_size=256, intermediate_size=512, num_hidden_layers=8, num_attention_heads=8,
        num_key_value_heads=2, attn_layer_period=8, attn_layer_offset=4, num_experts=4, num_experts_per_tok=2,
        expert_layer_period=2, expert_layer_offset=1, mamba_d_state=16, mamba_d_conv=4, mamba_expand=2,
        max_position_embeddings=65536)),
    # Granite 4.0-H 1B geometry (hidden 1536, 40 layers: 4 attention, 36 Mamba-2; dense MLP 4096); ~1.5B
    # parameters in float32 (6 GB): only on request.
    "granite-1b": ("GraniteMoeHybridForCausalLM", "GraniteMoeHybridConfig", dict(
        vocab_size=100352, hidden_size=1536, intermediate_size=4096, shared_intermediate_size=4096,
        num_hidden_layers=40, num_attention_heads=12, num_key_value_heads=4, num_local_experts=0,
        num_experts_per_tok=0, mamba_n_heads=48, mamba_d_head=64, mamba_d_state=128, mamba_n_groups=1,
        mamba_d_conv=4, mamba_expand=2, mamba_chunk_size=256, position_embedding_type="nope",
        layer_types=["attention" if i in (9, 19, 29, 39) else "mamba" for i in range(40)],
        tie_word_embeddings=True, max_position_embeddings=131072)),
}
DEFAULT_SHAPES = "mamba1-130m,mamba2-130m,jamba-tiny"


# --- helpers ---------------------------------------------------------------------------------------------------


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def loadavg() -> float:
    return round(os.getloadavg()[0], 2)


def status_mb(field: str) -> float:
    """A /proc/self/status field in MiB (VmHWM: peak resident set; VmRSS: now)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".", suffix=".tmp")
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.replace(tmp, path)


def run(cmd: list[str], **kw) -> subprocess.CompletedProcess:
    proc = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if proc.returncode != 0:
        raise SystemExit(f"failed ({proc.returncode}): {' '.join(map(str, cmd))}\n{proc.stdout[-2000:]}"
                         f"\n{proc.stderr[-4000:]}")
    return proc


# --- llama.cpp: fetch, build, convert ----------------------------------------------------------------------------


def llama_tree(cache: Path) -> Path:
    """The extracted sdist's vendor/llama.cpp, fetched with pip if absent."""
    src = cache / f"llama_cpp_python-{SDIST_VERSION}"
    if not (src / "vendor" / "llama.cpp" / "CMakeLists.txt").is_file():
        tarball = cache / f"llama_cpp_python-{SDIST_VERSION}.tar.gz"
        if not tarball.is_file():
            log(f"fetching the llama-cpp-python {SDIST_VERSION} sdist with pip ...")
            run([sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:",
                 f"llama-cpp-python=={SDIST_VERSION}", "-d", str(cache)])
        with tarfile.open(tarball) as tar:
            tar.extractall(cache, filter="data")
    return src


def build_llama(cache: Path, src: Path, jobs: int) -> Path:
    """build/bin with libllama.so (and llama-bench), built once."""
    build = cache / "build"
    lib = build / "bin" / "libllama.so"
    if lib.is_file():
        return lib.parent
    if not shutil.which("cmake"):
        raise SystemExit("cmake is not installed (apt-get install cmake g++)")
    log(f"building llama.cpp (CPU, Release) in {build}; several minutes ...")
    run(["cmake", "-S", str(src / "vendor" / "llama.cpp"), "-B", str(build), "-DCMAKE_BUILD_TYPE=Release",
         "-DGGML_NATIVE=ON", "-DBUILD_SHARED_LIBS=ON", "-DLLAMA_BUILD_TESTS=OFF", "-DLLAMA_BUILD_EXAMPLES=OFF",
         "-DLLAMA_BUILD_SERVER=OFF", "-DLLAMA_BUILD_APP=OFF", "-DLLAMA_OPENSSL=OFF", "-DLLAMA_CURL=OFF"])
    run(["cmake", "--build", str(build), "-j", str(jobs), "--target", "llama"])
    return lib.parent


def make_checkpoint(cache: Path, shape: str) -> Path:
    path = cache / "checkpoints" / shape
    if (path / "model.safetensors").is_file() or (path / "model.safetensors.index.json").is_file():
        return path
    log(f"making the random {shape} checkpoint with transformers ...")
    code = ("import sys, json, torch, transformers as t\n"
            "model_cls, cfg_cls, kw, out = sys.argv[1], sys.argv[2], json.loads(sys.argv[3]), sys.argv[4]\n"
            "torch.manual_seed(0)\n"
            "m = getattr(t, model_cls)(getattr(t, cfg_cls)(**kw)).eval()\n"
            "m.save_pretrained(out + '.tmp', safe_serialization=True)\n")
    model_cls, cfg_cls, kw = SHAPES[shape]
    tmp = Path(str(path) + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    run([sys.executable, "-c", code, model_cls, cfg_cls, json.dumps(kw), str(path)],
        env=os.environ | {"TRANSFORMERS_VERBOSITY": "error", "OMP_NUM_THREADS": "1"})
    os.replace(tmp, path)
    return path


# The converter wants tokenizer files, which random checkpoints lack: Mamba/Mamba-2 fall back to llama.cpp's
# built-in GPT-NeoX vocabulary by themselves; the others are pointed at it here (token ids are all we feed).
CONVERT_SHIM = """
import runpy, sys
root = sys.argv.pop(1)
sys.path[0:0] = [root, root + "/gguf-py"]
import conversion.base as base
def builtin_vocab(self):
    self._set_vocab_builtin("gpt-neox", self.hparams["vocab_size"])
for name in ("jamba.JambaModel", "granite.GraniteHybridModel"):
    mod, cls = name.split(".")
    setattr(getattr(__import__("conversion." + mod).__dict__[mod], cls), "set_vocab", builtin_vocab)
sys.argv[0] = root + "/convert_hf_to_gguf.py"
runpy.run_path(sys.argv[0], run_name="__main__")
"""


def convert(cache: Path, src: Path, ckpt: Path, shape: str, outtype: str) -> Path:
    out = cache / "gguf" / f"{shape}-{outtype}.gguf"
    if out.is_file():
        return out
    out.parent.mkdir(parents=True, exist_ok=True)
    root = src / "vendor" / "llama.cpp"
    log(f"converting {shape} to GGUF {outtype.upper()} ...")
    tmp = out.with_suffix(".tmp")
    run([sys.executable, "-c", CONVERT_SHIM, str(root), str(ckpt), "--outtype", outtype, "--outfile", str(tmp)],
        env=os.environ | {"OMP_NUM_THREADS": "1"})
    os.replace(tmp, out)
    return out


# --- workers: one engine, one process -----------------------------------------------------------------------------


def prompt_ids(vocab: int, length: int, seed: int) -> list[int]:
    import random

    rng = random.Random(seed)
    return [rng.randrange(vocab) for _ in range(length)]


def ssmdoc_worker(a) -> dict:
    # sleeping OpenMP waiters (must be set before torch loads OpenMP): the setting the runs in
    # docs/benchmarks.md used; pass --omp-wait-policy active to measure torch's default
    os.environ["OMP_WAIT_POLICY"] = a.omp_wait_policy.upper()
    import torch

    if a.threads:
        torch.set_num_threads(a.threads)
    from ssmdoc.models import load_pretrained

    t0 = time.perf_counter()
    model = load_pretrained(a.model)
    load_s = time.perf_counter() - t0
    rss_loaded, hwm_loaded = status_mb("VmRSS"), status_mb("VmHWM")
    vocab = model.config.vocab_size
    check = torch.tensor([prompt_ids(vocab, 32, 7)])
    check_logits = model(check, model.new_state(), logits="last")[0, -1]  # also the warm-up
    ids = torch.tensor([prompt_ids(vocab, a.length, 1)])
    state = model.new_state()
    t0 = time.perf_counter()
    logits = model(ids, state, logits="last")
    prefill_s = time.perf_counter() - t0
    tok = torch.empty(1, 1, dtype=torch.long)
    t0 = time.perf_counter()
    for _ in range(a.decode):
        tok[0, 0] = int(logits[0, -1].argmax())
        logits = model(tok, state, logits="last")
    decode_s = time.perf_counter() - t0
    return dict(load_s=load_s, prefill_s=prefill_s, decode_s=decode_s, rss_after_load_mb=rss_loaded,
                hwm_after_load_mb=hwm_loaded, peak_rss_mb=status_mb("VmHWM"), weights_mb=model.weights_nbytes() / 2**20,
                threads=torch.get_num_threads(), check_logits=check_logits.tolist(),
                flops_per_token=prefill_flops_per_token(model, a.length))


def prefill_flops_per_token(model, length: int) -> float:
    """Matrix-product FLOPs per prompt token: every Linear (MoE experts at top-k of E), causal attention's QK and
    AV at the mean position; the LM head is left out (it runs on the last position only)."""
    from torch import nn

    from ssmdoc.models.attention import Attention
    from ssmdoc.models.ffn import MoE

    total = 0.0
    for name, mod in model.named_modules():
        if isinstance(mod, nn.Linear) and mod is not model.lm_head:
            total += 2 * mod.in_features * mod.out_features
        elif isinstance(mod, MoE):
            e, f, d = mod.up.shape
            total += 2 * d * f * (3 if mod.gate is not None else 2) * mod.top_k
        elif isinstance(mod, Attention):
            heads_dim = mod.o_proj.in_features
            total += 2 * 2 * heads_dim * length / 2
    return total


def llama_worker(a) -> dict:
    import ctypes
    import importlib.util
    import types

    import numpy as np

    os.environ["LLAMA_CPP_LIB_PATH"] = a.lib
    pkg = types.ModuleType("llama_cpp")  # the sdist's ctypes bindings, without its high-level package
    pkg.__path__ = [a.bindings]
    sys.modules["llama_cpp"] = pkg
    spec = importlib.util.spec_from_file_location("llama_cpp.llama_cpp", os.path.join(a.bindings, "llama_cpp.py"))
    ll = importlib.util.module_from_spec(spec)
    sys.modules["llama_cpp.llama_cpp"] = ll
    spec.loader.exec_module(ll)

    quiet = ll.llama_log_callback(lambda level, text, data: None)
    ll.llama_log_set(quiet, ctypes.c_void_p())
    ll.llama_backend_init()
    threads = a.threads or os.cpu_count()
    t0 = time.perf_counter()
    mparams = ll.llama_model_default_params()
    model = ll.llama_model_load_from_file(a.model.encode(), mparams)
    if not model:
        raise SystemExit(f"llama.cpp could not load {a.model}")
    cparams = ll.llama_context_default_params()
    cparams.n_ctx = a.length + a.decode + 64
    cparams.n_threads = cparams.n_threads_batch = threads
    ctx = ll.llama_init_from_model(model, cparams)
    load_s = time.perf_counter() - t0
    rss_loaded, hwm_loaded = status_mb("VmRSS"), status_mb("VmHWM")
    vocab = ll.llama_vocab_n_tokens(ll.llama_model_get_vocab(model))
    n_batch = cparams.n_batch

    def feed(tokens: list[int]) -> np.ndarray:
        for start in range(0, len(tokens), n_batch):
            part = tokens[start:start + n_batch]
            arr = (ll.llama_token * len(part))(*part)
            if ll.llama_decode(ctx, ll.llama_batch_get_one(arr, len(part))) != 0:
                raise SystemExit("llama_decode failed")
        return np.ctypeslib.as_array(ll.llama_get_logits_ith(ctx, -1), shape=(vocab,))

    mem = ll.llama_get_memory(ctx)
    check_logits = feed(prompt_ids(vocab, 32, 7)).tolist()
    ll.llama_memory_clear(mem, True)
    ids = prompt_ids(vocab, a.length, 1)
    t0 = time.perf_counter()
    logits = feed(ids)
    prefill_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    for _ in range(a.decode):
        logits = feed([int(logits.argmax())])
    decode_s = time.perf_counter() - t0
    ll.llama_free(ctx)
    ll.llama_model_free(model)
    return dict(load_s=load_s, prefill_s=prefill_s, decode_s=decode_s, rss_after_load_mb=rss_loaded,
                hwm_after_load_mb=hwm_loaded, peak_rss_mb=status_mb("VmHWM"),
                weights_mb=os.path.getsize(a.model) / 2**20, threads=threads, check_logits=check_logits)


def sgemm_gflops(threads: int, seconds: float = 2.0) -> float:
    """float32 GEMM rate of this machine now (torch's BLAS), at the shape of a 1024-token block's projection."""
    import torch

    torch.set_num_threads(threads)
    a, b = torch.randn(1024, 768), torch.randn(768, 3072)
    c = a @ b
    n, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        torch.mm(a, b, out=c)
        n += 1
    return 2 * 1024 * 768 * 3072 * n / (time.perf_counter() - t0) / 1e9


# --- the driver ---------------------------------------------------------------------------------------------------


OMP_POLICY = ["passive"]  # set from --omp-wait-policy by main()


def spawn(engine: str, model: Path, length: int, decode: int, threads: int, cache: Path, busy: bool = False) -> dict:
    cmd = [sys.executable, str(HERE), "--worker", engine, "--model", str(model), "--length", str(length),
           "--omp-wait-policy", OMP_POLICY[0],
           "--decode", str(decode), "--threads-one", str(threads), "--lib", str(cache / "build" / "bin"),
           "--bindings", str(cache / f"llama_cpp_python-{SDIST_VERSION}" / "llama_cpp")]
    hog = None
    if busy:  # another CPU-bound process on the machine for the whole run
        hog = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    load = loadavg()
    try:
        proc = run(cmd, env=os.environ | {"TRANSFORMERS_VERBOSITY": "error"})
    finally:
        if hog is not None:
            hog.kill()
            hog.wait()
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    return out | dict(engine=engine, length=length, loadavg_before=load, loadavg_after=loadavg())


def agreement(ours: list[float], theirs: list[float]) -> dict:
    import torch

    a, b = torch.tensor(ours), torch.tensor(theirs)
    top_a, top_b = a.topk(5).indices.tolist(), b.topk(5).indices.tolist()
    return dict(next_token_same=top_a[0] == top_b[0], top5_ssmdoc=top_a, top5_llama=top_b,
                top5_same_set=set(top_a) == set(top_b),
                max_abs_diff_over_max=float((a - b).abs().max() / a.abs().max()))


def summarize(runs: list[dict], key: str) -> dict:
    vals = [r[key] for r in runs]
    return dict(min=min(vals), median=statistics.median(vals), n=len(vals))


def main_driver(a) -> None:
    import torch

    cache = Path(a.cache).expanduser()
    cache.mkdir(parents=True, exist_ok=True)
    src = llama_tree(cache)
    build_llama(cache, src, a.jobs)
    results = dict(machine=dict(cpu=cpu_name(), cpus=os.cpu_count(), python=platform.python_version(),
                                torch=torch.__version__, llama_cpp_sdist=SDIST_VERSION, commit=git_commit()),
                   started=time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()), shapes={})
    out_dir = Path(a.out)

    def save():
        write_atomic(out_dir / "peers.json", json.dumps(results, indent=1))
        write_atomic(out_dir / "peers.md", render(results))

    threads = [int(t) for t in a.threads.split(",")]
    results["sgemm_gflops_start"] = {t: round(sgemm_gflops(t), 1) for t in threads}
    lengths = [int(x) for x in a.lengths.split(",")]
    for shape in a.shapes.split(","):
        ckpt = make_checkpoint(cache, shape)
        ggufs = {t: convert(cache, src, ckpt, shape, t) for t in a.types.split(",")}
        entry = results["shapes"][shape] = dict(runs=[], agreement={})
        for t, path in ggufs.items():  # same model? (short prompt, last-position logits)
            ours = spawn("ssmdoc", ckpt, 16, 0, 1, cache)
            theirs = spawn("llama", path, 16, 0, 1, cache)
            entry["agreement"][t] = agreement(ours["check_logits"], theirs["check_logits"])
            log(f"{shape} vs llama.cpp {t.upper()}: {entry['agreement'][t]}")
        for length in lengths:
            for rnd in range(a.rounds):
                for th in threads:
                    for engine, model in (("ssmdoc", ckpt), ("llama", ggufs["f32"])):
                        r = spawn(engine, model, length, a.decode, th, cache)
                        r.pop("check_logits", None)
                        r.update(round=rnd, threads_asked=th, type="f32")
                        entry["runs"].append(r)
                        log(f"{shape} {engine} L={length} t={th} round {rnd}: prefill {length / r['prefill_s']:.1f} "
                            f"tok/s, decode {a.decode / max(r['decode_s'], 1e-9):.1f} tok/s, peak "
                            f"{r['peak_rss_mb']:.0f} MB, load {r['loadavg_before']}")
                        save()
            for t in ggufs:
                if t != "f32":
                    for th in threads:
                        r = spawn("llama", ggufs[t], length, a.decode, th, cache)
                        r.pop("check_logits", None)
                        r.update(round=0, threads_asked=th, type=t)
                        entry["runs"].append(r)
                        save()
        if a.contention:
            for rnd in range(a.rounds):
                for th in (1, 2):
                    for engine, model in (("ssmdoc", ckpt), ("llama", ggufs["f32"])):
                        r = spawn(engine, model, lengths[0], a.decode, th, cache, busy=True)
                        r.pop("check_logits", None)
                        r.update(round=rnd, threads_asked=th, type="f32", contention=True)
                        entry["runs"].append(r)
                        log(f"{shape} {engine} busy t={th}: prefill {lengths[0] / r['prefill_s']:.1f} tok/s")
                        save()
    results["sgemm_gflops_end"] = {t: round(sgemm_gflops(t), 1) for t in threads}
    results["finished"] = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())
    save()
    print(render(results))


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def git_commit() -> str:
    if os.environ.get("SSMDOC_COMMIT"):  # a run from an exported snapshot
        return os.environ["SSMDOC_COMMIT"]
    try:
        return subprocess.run(["git", "rev-parse", "--short=12", "HEAD"], cwd=HERE.parent, capture_output=True,
                              text=True).stdout.strip() or "unknown"
    except OSError:
        return "unknown"


def render(res: dict) -> str:
    lines = [f"Machine: {res['machine']['cpu']}, {res['machine']['cpus']} CPUs, torch {res['machine']['torch']}, "
             f"llama.cpp from llama-cpp-python {res['machine']['llama_cpp_sdist']}; commit {res['machine']['commit']}; "
             f"{res['started']} to {res.get('finished', '(running)')}.",
             f"sgemm float32 GFLOP/s (torch, by threads): start {res.get('sgemm_gflops_start')}, "
             f"end {res.get('sgemm_gflops_end')}.", ""]
    for shape, entry in res["shapes"].items():
        lines.append(f"### {shape}")
        for t, agr in entry["agreement"].items():
            lines.append(f"- same model (llama.cpp {t.upper()}): next token {'same' if agr['next_token_same'] else 'DIFFERENT'}, "
                         f"top-5 {'same set' if agr['top5_same_set'] else 'differ'}, max |diff| / max |logit| "
                         f"{agr['max_abs_diff_over_max']:.1e}")
        lines += ["", "| tokens | threads | contention | engine | weights | prefill tok/s min / median | "
                  "decode tok/s min / median | GFLOP/s (median) | peak RSS MB | RSS after load MB | load avg | runs |",
                  "|---:|---:|---|---|---|---:|---:|---:|---:|---:|---|---:|"]
        groups: dict = {}
        for r in entry["runs"]:
            key = (r["length"], r["threads_asked"], r.get("contention", False), r["engine"], r["type"])
            groups.setdefault(key, []).append(r)
        fpt = next((r.get("flops_per_token") for r in entry["runs"] if r.get("flops_per_token")), None)
        for (length, th, busy, engine, typ), runs in sorted(groups.items()):
            pre = [length / r["prefill_s"] for r in runs]
            dec = [r_dec for r in runs if (r_dec := _decode_rate(r)) is not None]
            gf = f"{statistics.median(pre) * fpt / 1e9:.1f}" if fpt else ""
            loads = f"{min(r['loadavg_before'] for r in runs):.1f}-{max(r['loadavg_after'] for r in runs):.1f}"
            lines.append(
                f"| {length} | {th} | {'busy' if busy else ''} | {'ssmdoc' if engine == 'ssmdoc' else 'llama.cpp'} | "
                f"{typ.upper()} | {min(pre):.1f} / {statistics.median(pre):.1f} | "
                + (f"{min(dec):.1f} / {statistics.median(dec):.1f}" if dec else "") +
                f" | {gf} | {max(r['peak_rss_mb'] for r in runs):.0f} | "
                f"{max(r['rss_after_load_mb'] for r in runs):.0f} | {loads} | {len(runs)} |")
        lines.append("")
    return "\n".join(lines)


def _decode_rate(r: dict) -> float | None:
    n = r.get("decode_tokens")
    return None if not r["decode_s"] else (n or 64) / r["decode_s"]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--shapes", default=DEFAULT_SHAPES, help=f"comma-separated, of: {', '.join(SHAPES)}")
    p.add_argument("--lengths", default="4096", help="prompt lengths, comma-separated (e.g. 4096,16384)")
    p.add_argument("--decode", type=int, default=64, help="greedy tokens decoded after each prefill")
    p.add_argument("--threads", default="1,2", help="thread counts, comma-separated")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--types", default="f32", help="GGUF types to convert: f32 (always timed), f16")
    p.add_argument("--contention", action="store_true", help="also run with a CPU-bound process beside")
    p.add_argument("--cache", default=os.environ.get("SSMDOC_PEERS_CACHE", "~/.cache/ssmdoc-peers"))
    p.add_argument("--jobs", type=int, default=os.cpu_count() or 2, help="parallel compile jobs")
    p.add_argument("--out", default=str(HERE.parent / "results"))
    p.add_argument("--omp-wait-policy", default="passive", choices=["passive", "active"],
                   help="OMP_WAIT_POLICY of the ssmdoc workers (torch's default is active: spinning)")
    # worker-only arguments
    p.add_argument("--worker", choices=["ssmdoc", "llama"], help=argparse.SUPPRESS)
    p.add_argument("--model", help=argparse.SUPPRESS)
    p.add_argument("--length", type=int, help=argparse.SUPPRESS)
    p.add_argument("--threads-one", type=int, default=0, help=argparse.SUPPRESS)
    p.add_argument("--lib", help=argparse.SUPPRESS)
    p.add_argument("--bindings", help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.worker:
        a.threads = a.threads_one
        res = (ssmdoc_worker if a.worker == "ssmdoc" else llama_worker)(a)
        res["decode_tokens"] = a.decode
        print(json.dumps(res))
        return
    OMP_POLICY[0] = a.omp_wait_policy
    if "f32" not in a.types.split(","):
        a.types = "f32," + a.types
    main_driver(a)


if __name__ == "__main__":
    main()
