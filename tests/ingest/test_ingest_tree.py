"""Directory walks: .gitignore at every level with negations, binaries, size cap, symlinks, stable order."""

import os

import pytest

from ingest.fixtures import make_pdf, make_repo, write
from ssmdoc.ingest import IngestOptions, IngestStats, iter_segments


def walk(root, **options):
    options.setdefault("max_file_bytes", 1000)
    warnings: list[str] = []
    stats = IngestStats()
    segments = list(iter_segments([str(root)], IngestOptions(warn=warnings.append, **options), stats))
    return segments, stats, warnings


def files_of(segments):
    seen: list[str] = []
    for segment in segments:
        if segment.source.path not in seen:
            seen.append(segment.source.path)
    return seen


def test_repo_walk_reads_what_git_would_track_and_counts_every_skip(tmp_path):
    expected = make_repo(tmp_path / "repo")
    segments, stats, _ = walk(tmp_path / "repo")
    read = files_of(segments)
    assert set(read) == expected["read"]
    assert stats.files_read == len(expected["read"])
    for reason in ("gitignored", "binary", "too large", "empty", "broken symlink"):
        assert set(stats.skipped[reason]) == expected[reason], reason
    assert stats.skipped["symlink loop"] == ["src/deep/loop"]
    assert not any(path.startswith(".git/") for path in read)
    assert all(s.source.kind == "repo" and s.source.root == str(tmp_path / "repo") for s in segments)


def test_walk_order_is_stable_and_sorted(tmp_path):
    make_repo(tmp_path / "repo")
    first = files_of(walk(tmp_path / "repo")[0])
    assert first == files_of(walk(tmp_path / "repo")[0])
    # depth-first with names sorted at each level
    assert first.index("README.md") < first.index("keep.log") < first.index("src/.gitignore")
    assert first.index("src/deep/util.py") < first.index("src/main.py")


def test_each_file_starts_with_a_header_naming_its_path(tmp_path):
    make_repo(tmp_path / "repo")
    segments, _, _ = walk(tmp_path / "repo")
    first_of_file = {}
    for segment in segments:
        first_of_file.setdefault(segment.source.path, segment)
    for path, segment in first_of_file.items():
        assert segment.text.startswith(f"=== {path} ===\n")
    main = first_of_file["src/main.py"]
    assert (main.source.line_start, main.source.line_end) == (1, 2)
    assert str(main.source) == "src/main.py:1-2"
    assert "return 42" in main.text


def test_include_and_exclude_globs(tmp_path):
    make_repo(tmp_path / "repo")
    segments, stats, _ = walk(tmp_path / "repo", include=("*.py",))
    assert set(files_of(segments)) == {"src/main.py", "src/deep/util.py"}
    assert "README.md" in stats.skipped["not included"]
    segments, stats, _ = walk(tmp_path / "repo", exclude=("src/deep/", "*.md"))
    read = set(files_of(segments))
    assert "src/deep/util.py" not in read and "README.md" not in read and "src/main.py" in read
    assert set(stats.skipped["excluded"]) == {"src/deep/", "README.md"}  # an excluded directory is not entered


def test_fifo_in_a_tree_is_skipped_not_read(tmp_path):
    write(tmp_path / "repo" / "a.txt", "a\n")
    os.mkfifo(tmp_path / "repo" / "pipe")  # opening it would block forever
    segments, stats, _ = walk(tmp_path / "repo")
    assert files_of(segments) == ["a.txt"]
    assert stats.skipped["not a regular file"] == ["pipe"]


def test_size_cap_is_configurable(tmp_path):
    make_repo(tmp_path / "repo")
    segments, stats, _ = walk(tmp_path / "repo", max_file_bytes=5000)
    assert "big.txt" in files_of(segments)
    assert "too large" not in stats.skipped


def test_symlink_out_of_the_tree_is_not_followed(tmp_path):
    write(tmp_path / "outside" / "private.txt", "private\n")
    write(tmp_path / "repo" / "a.txt", "a\n")
    (tmp_path / "repo" / "link").symlink_to(tmp_path / "outside", target_is_directory=True)
    (tmp_path / "repo" / "file-link").symlink_to(tmp_path / "outside" / "private.txt")
    segments, stats, _ = walk(tmp_path / "repo")
    assert files_of(segments) == ["a.txt"]
    assert set(stats.skipped["symlink out of the tree"]) == {"link/", "file-link"}


def test_symlink_inside_the_tree_is_read(tmp_path):
    write(tmp_path / "repo" / "docs" / "a.txt", "a\n")
    (tmp_path / "repo" / "alias").symlink_to("docs", target_is_directory=True)
    segments, stats, _ = walk(tmp_path / "repo")
    assert files_of(segments) == ["alias/a.txt"]  # the real directory is then already visited
    assert stats.skipped["already read (symlinked)"] == ["docs"]


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root reads any file")
def test_unreadable_file_is_skipped_with_its_reason(tmp_path):
    write(tmp_path / "repo" / "ok.txt", "ok\n")
    locked = write(tmp_path / "repo" / "locked.txt", "no\n")
    locked.chmod(0)
    try:
        segments, stats, _ = walk(tmp_path / "repo")
    finally:
        locked.chmod(0o644)
    assert files_of(segments) == ["ok.txt"]
    assert [r for r, paths in stats.skipped.items() if "locked.txt" in paths][0].startswith("unreadable")


def test_file_that_fails_to_open_is_skipped_even_for_root(tmp_path, monkeypatch):
    # root reads any file despite its mode bits, so simulate the failure where the walk opens the file
    import ssmdoc.ingest.tree as tree

    real = tree.read_sample

    def refuse(path):
        if path.endswith("locked.txt"):
            raise PermissionError(13, "Permission denied", path)
        return real(path)

    monkeypatch.setattr(tree, "read_sample", refuse)
    write(tmp_path / "repo" / "ok.txt", "ok\n")
    write(tmp_path / "repo" / "locked.txt", "no\n")
    segments, stats, _ = walk(tmp_path / "repo")
    assert files_of(segments) == ["ok.txt"]
    assert stats.skipped["unreadable (Permission denied)"] == ["locked.txt"]
    assert stats.files_read == 1


def test_pdfs_in_a_tree_are_paged_and_bad_ones_skipped(tmp_path):
    write(tmp_path / "notes" / "a.pdf", make_pdf(["first note"]))
    write(tmp_path / "notes" / "b.pdf", os.urandom(100))
    segments, stats, warnings = walk(tmp_path / "notes")
    assert [str(s.source) for s in segments] == ["a.pdf p.1"]
    assert stats.skipped["unreadable PDF"] == ["b.pdf"]
    assert any("b.pdf" in w for w in warnings)


def test_large_source_file_is_cut_into_line_ranges(tmp_path):
    write(tmp_path / "repo" / "long.py", "".join(f"line {n}\n" for n in range(1, 451)))
    segments, _, _ = walk(tmp_path / "repo", max_file_bytes=1 << 20)
    ranges = [(s.source.line_start, s.source.line_end) for s in segments]
    assert ranges == [(1, 200), (201, 400), (401, 450)]
    assert segments[1].text.startswith("line 201\n")
