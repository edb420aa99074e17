"""Ray: start a local one or join a cluster, size the actor pool, and stream rows back from Ray Data.

The dataset has one row per document and one block per row, so the pool hands out documents one at a time
(a long document never holds shorter ones back in an actor's queue). `map_batches` over an
`ActorPoolStrategy` runs `DocumentWorker`; rows stream back to the driver in the order they finish.

Worker deaths: Ray restarts a dead actor (`max_restarts=-1`) and retries its task up to `retries` times
(`max_task_retries`); a document whose task still fails is dropped from the output (`max_errored_blocks=-1`),
and the driver records it as failed.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import sys
import warnings
from collections.abc import Iterator
from dataclasses import dataclass

from ssmdoc.errors import SsmdocError, UsageError

RAY_HINT = 'install the Ray extra: pip install "ssmdoc[ray]"'
LOCAL_OBJECT_STORE_BYTES = 256 << 20  # rows are small (a path in, a JSON line out); Ray's default is 30% of RAM


def import_ray():
    try:
        import ray
        import ray.data  # noqa: F401
    except ImportError as exc:
        raise SsmdocError(f"ssmdoc batch needs Ray Data, which is not installed ({exc})", RAY_HINT) from None
    return ray


@dataclass
class Pool:
    replicas: int
    threads: int  # CPUs (torch threads) per replica
    gpus: float  # GPUs per replica


@contextlib.contextmanager
def connect(address: str | None, debug: bool) -> Iterator[object]:
    """A local Ray started here and stopped on the way out, or (`address`) an existing cluster joined.

    While Ray runs, Python's stdout is stderr: Ray prints its error notices (a task failed and is retried)
    on stdout, which belongs to our --json report."""
    with contextlib.redirect_stdout(sys.stderr):
        yield from _connect(address, debug)


def _connect(address: str | None, debug: bool) -> Iterator[object]:
    ray = import_ray()
    if not debug:
        os.environ.setdefault("RAY_BACKEND_LOG_LEVEL", "fatal")  # the C++ core's log lines on our stderr
    kwargs = dict(log_to_driver=debug, logging_level=logging.INFO if debug else logging.ERROR)
    if address is None:
        kwargs |= dict(address="local", include_dashboard=False, object_store_memory=LOCAL_OBJECT_STORE_BYTES)
        if os.environ.get("SSMDOC_RAY_NUM_CPUS"):  # lets tests (and cautious users) cap the local cluster
            kwargs["num_cpus"] = int(os.environ["SSMDOC_RAY_NUM_CPUS"])
    elif address.startswith("ray://"):
        kwargs = dict(address=address)  # Ray Client: other init arguments would be forwarded to the server's
    else:
        kwargs["address"] = address
    if address is not None:
        _reachable(address)
    try:
        ray.init(**kwargs)
    except (ConnectionError, ValueError, RuntimeError) as exc:
        where = f"the Ray cluster at {address}" if address else "a local Ray"
        raise SsmdocError(f"cannot start or join {where}: {exc}",
                          "check --ray-address (auto, HOST:PORT or ray://HOST:PORT); a cluster with token "
                          "authentication (Ray's default) also needs RAY_AUTH_MODE=token and its token "
                          "(~/.ray/auth_token or RAY_AUTH_TOKEN)" if address else None) from exc
    try:
        context = ray.data.DataContext.get_current()
        context.enable_progress_bars = debug
        context.print_on_execution_start = debug
        context.max_errored_blocks = -1  # a document whose worker died past --retries: dropped, then recorded
        if not debug:
            logging.getLogger("ray.data").setLevel(logging.ERROR)
        yield ray
    finally:
        ray.shutdown()


def _reachable(address: str) -> None:
    """HOST:PORT must accept a connection now: Ray itself retries an unreachable GCS for many minutes."""
    target = address.removeprefix("ray://")
    host, _, port = target.rpartition(":")
    if address == "auto" or not host or not port.isdigit():
        return  # `auto` (Ray finds the local cluster's address itself) or a form Ray will judge
    try:
        socket.create_connection((host, int(port)), timeout=10).close()
    except OSError as exc:
        raise SsmdocError(f"no Ray cluster answers at {address} ({exc.strerror or exc})",
                          "start one with `ray start --head`, or check --ray-address (auto, HOST:PORT, "
                          "ray://HOST:PORT)") from None


def size_pool(ray, replicas: int | None, threads: int, gpus: float, documents: int, replica_bytes: int) -> Pool:
    """--replicas, or what fits: one per GPU share, else the cluster's CPUs / threads per replica, and no
    more replicas than memory holds (`replica_bytes`: a rough per-replica need) or documents to process."""
    resources = ray.cluster_resources()
    if gpus > 0 and resources.get("GPU", 0) < gpus:
        raise UsageError(f"--gpus-per-replica {gpus:g} but the Ray cluster has {resources.get('GPU', 0):g} GPUs",
                         "use --gpus-per-replica 0 (CPU), or join a cluster with GPUs (--ray-address)")
    if threads > resources.get("CPU", 0):
        raise UsageError(f"--threads-per-replica {threads} but the Ray cluster has {resources.get('CPU', 0):g} CPUs")
    if replicas is None:
        fit = int(resources["GPU"] // gpus) if gpus > 0 else int(resources.get("CPU", 1) // threads)
        memory = resources.get("memory")
        if memory and replica_bytes > 0:
            fit = min(fit, max(1, int(memory // replica_bytes)))
        replicas = max(1, fit)
    return Pool(max(1, min(replicas, documents)), threads, gpus)


def stream_rows(ray, items: list[dict], spec, pool: Pool, retries: int) -> Iterator[dict]:
    """Yields {"id", "row"} for every document whose worker returned, as each one finishes."""
    from ssmdoc.batch.worker import DocumentWorker

    dataset = ray.data.from_items(items, override_num_blocks=len(items))
    with warnings.catch_warnings():
        # max_restarts / max_task_retries have no named parameter in Ray Data 2.60; the remote-args form is
        # deprecated (removal announced for 2.64) but is how Ray Data sets an actor's fault tolerance today.
        warnings.simplefilter("ignore")
        dataset = dataset.map_batches(
            DocumentWorker,
            fn_constructor_args=(spec,),
            batch_size=1,
            compute=ray.data.ActorPoolStrategy(size=pool.replicas, max_tasks_in_flight_per_actor=1),
            num_cpus=pool.threads,
            num_gpus=pool.gpus or None,
            max_restarts=-1,
            max_task_retries=retries,
        )
    for row in dataset.iter_rows():
        yield {"id": int(row["id"]), "row": row["row"]}
