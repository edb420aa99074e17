"""Ingestion: PDFs, directory trees, text files and stdin become one lazy stream of addressed segments.

    for segment in iter_segments(["contract.pdf", "repo/", "-"], IngestOptions(password="x"), stats):
        print(segment.source, len(segment.text))

Warnings (damaged pages, pages without a text layer, ...) go to `IngestOptions.warn` (default: a
`warning: ...` line on stderr); inputs that cannot be read at all raise `ssmdoc.errors.InputError`.
"""

from ssmdoc.ingest.dispatch import STDIN, iter_segments
from ssmdoc.ingest.types import IngestOptions, IngestStats, Segment, Source, warn_to_stderr

__all__ = ["STDIN", "IngestOptions", "IngestStats", "Segment", "Source", "iter_segments", "warn_to_stderr"]
