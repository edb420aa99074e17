"""The `ssmdoc` console script: signal handling first, then the (slower to import) command line.

Installed before Typer, torch or anything else is imported, so that a Ctrl-C in the first second of a run
ends as cleanly as one later: `error: interrupted`, exit 130, no traceback.
"""

from __future__ import annotations

import sys


def main() -> None:
    from ssmdoc import signals

    try:
        # A signal can arrive while the handlers are being installed (SIGINT's is live before SIGTERM's
        # call returns): the same clean end as during the import.
        signals.install()
        from ssmdoc.cli import main as cli_main
    except KeyboardInterrupt:
        sys.stderr.write("error: interrupted\n")
        signals.exit_interrupted()
    cli_main()


if __name__ == "__main__":  # pragma: no cover
    main()
