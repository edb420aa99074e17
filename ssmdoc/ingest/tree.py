"""Directory walks: every file a repository would track, in a stable order, each skipped file with its reason.

`.gitignore` files are honoured at every level, with negations, through pathspec's gitignore semantics.
As in git, the deepest `.gitignore` with a matching pattern decides, and an ignored directory is not
entered (a negation cannot re-include a file inside it). `.git/` is never read.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass

import pathspec

from ssmdoc.errors import InputError
from ssmdoc.ingest.ignore_rules import bounded_patterns, read_control_file
from ssmdoc.ingest.pdf import iter_pdf
from ssmdoc.ingest.secrets import file_reason, name_reason
from ssmdoc.ingest.text import SNIFF_BYTES, binary_reason, iter_text_file, read_sample
from ssmdoc.ingest.types import IngestOptions, IngestStats, Segment
from ssmdoc.terminal import decoded_name


@dataclass(frozen=True)
class _Ignore:
    base: str  # directory of the .gitignore, relative to the walk root ("" for the root), with a trailing "/"
    spec: pathspec.GitIgnoreSpec


def _load_gitignore(directory: str, rel_dir: str, options: IngestOptions, real_root: str) -> _Ignore | None:
    where = f"{rel_dir or './'}.gitignore"
    lines, why = read_control_file(os.path.join(directory, ".gitignore"), real_root)
    if why is not None:
        options.warn(f"{where}: {why}; ignored")
    if lines is None:
        return None
    lines, dropped = bounded_patterns(lines)
    if dropped:
        options.warn(f"{where}: left out {len(dropped)} pattern(s) too complex to match in bounded time "
                     f"(e.g. {dropped[0][:60]!r})")
    try:
        return _Ignore(rel_dir, pathspec.GitIgnoreSpec.from_lines(lines))
    except Exception as exc:  # a malformed pattern: report it and walk on without that file's rules
        options.warn(f"{where}: cannot parse ({exc}); ignored")
        return None


def _ignored(rel: str, is_dir: bool, ignores: list[_Ignore]) -> bool:
    """Whether the deepest .gitignore that has an opinion on `rel` excludes it."""
    for ignore in reversed(ignores):
        path = rel[len(ignore.base) :] + ("/" if is_dir else "")
        result = ignore.spec.check_file(path)
        if result.include is not None:
            return result.include
    return False


def _globs(patterns: tuple[str, ...]) -> pathspec.GitIgnoreSpec | None:
    if not patterns:
        return None
    kept, dropped = bounded_patterns(list(patterns))
    if dropped:
        raise InputError(f"--include/--exclude pattern too complex to match in bounded time: {dropped[0][:60]!r}",
                         hint="use at most three * in one path segment")
    try:
        return pathspec.GitIgnoreSpec.from_lines(kept)
    except Exception as exc:
        raise InputError(f"invalid --include/--exclude pattern: {exc}") from exc


def iter_tree(root: str, options: IngestOptions, stats: IngestStats) -> Iterator[Segment]:
    """Walks `root` depth-first with entries sorted by name, yielding each readable file's segments."""
    include, exclude = _globs(options.include), _globs(options.exclude)
    real_root = os.path.realpath(root)
    visited: set[tuple[int, int]] = set()  # (device, inode) of directories entered: symlink loops stop here
    display_root = decoded_name(root.rstrip("/") or "/")

    def walk(directory: str, rel_dir: str, ignores: list[_Ignore]) -> Iterator[Segment]:
        try:
            st = os.stat(directory)
            key = (st.st_dev, st.st_ino)
            if key in visited:
                # a link to a directory that contains the link itself is a loop; otherwise, an alias
                target = os.path.realpath(directory)
                loop = os.path.islink(directory.rstrip("/")) and _inside(
                    os.path.realpath(os.path.dirname(directory.rstrip("/"))), target
                )
                stats.skip(rel_dir.rstrip("/"), "symlink loop" if loop else "already read (symlinked)")
                return
            visited.add(key)
            with os.scandir(directory) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError as exc:
            stats.skip(rel_dir.rstrip("/") or display_root, f"unreadable ({exc.strerror or exc})")
            return
        here = _load_gitignore(directory, rel_dir, options, real_root)
        ignores = ignores + [here] if here else ignores
        for entry in entries:
            rel = rel_dir + decoded_name(entry.name)  # shown and matched as text; entry.path opens it
            if entry.name == ".git":
                continue
            try:
                is_dir = entry.is_dir()  # follows symlinks; a loop or dangling link raises or says False
                is_file = not is_dir and entry.is_file()
            except OSError:
                is_dir = is_file = False
            if _ignored(rel, is_dir, ignores):
                stats.skip(rel + ("/" if is_dir else ""), "gitignored")
                continue
            if (is_dir or is_file) and entry.is_symlink() and not _inside(os.path.realpath(entry.path), real_root):
                # git stores a link, not what it points to; never read outside the tree through one
                stats.skip(rel + ("/" if is_dir else ""), "symlink out of the tree")
            elif is_dir and exclude is not None and exclude.match_file(rel + "/"):
                stats.skip(rel + "/", "excluded")  # not entered: node_modules/ can hold 100k files
            elif is_dir:
                yield from walk(entry.path, rel + "/", ignores)
            elif not is_file:
                stats.skip(rel, "broken symlink" if entry.is_symlink() else "not a regular file")
            elif exclude is not None and exclude.match_file(rel):
                stats.skip(rel, "excluded")
            elif include is not None and not include.match_file(rel):
                stats.skip(rel, "not included")
            else:
                yield from _read_file(entry.path, rel, display_root, options, stats)

    yield from walk(root, "", [])


def _inside(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def _read_file(path: str, rel: str, root: str, options: IngestOptions, stats: IngestStats) -> Iterator[Segment]:
    try:
        st = os.stat(path)
        if not stat.S_ISREG(st.st_mode):
            stats.skip(rel, "not a regular file")
            return
        if st.st_size > options.max_file_bytes:  # every kind, PDFs included (a sparse 3 GiB scan.pdf)
            stats.skip(rel, "too large")
            return
        if not options.include_secrets and (secret := name_reason(rel)) is not None:
            stats.skip(rel, secret)
            return
        if rel.lower().endswith(".pdf"):
            # A PDF of a document collection is read page by page whatever its size; a bad one is skipped.
            try:
                yield from iter_pdf(path, rel, options, stats, kind="repo", root=root)
            except InputError as exc:
                stats.skip(rel, "unreadable PDF")
                options.warn(f"skipped {exc.message}")
                return
            stats.files_read += 1
            stats.bytes_read += st.st_size
            return
        if st.st_size > options.max_file_bytes:
            stats.skip(rel, "too large")
            return
        if st.st_size == 0:
            stats.skip(rel, "empty")
            return
        reason = binary_reason(read_sample(path), complete=st.st_size <= SNIFF_BYTES)
        if reason is not None:
            stats.skip(rel, "binary")
            return
        if (secret := file_reason(path, rel)) is not None:
            if not options.include_secrets:
                stats.skip(rel, secret)
                return
            stats.secrets_read.append(rel)
        yield from iter_text_file(path, rel, options, kind="repo", root=root)
    except OSError as exc:
        stats.skip(rel, f"unreadable ({exc.strerror or exc})")
        return
    stats.files_read += 1
    stats.bytes_read += st.st_size
