"""The ``selfmodel`` script and ``python -m selfmodel``: the command line of ``selfmodel.cli``.

The script is installed with every install, but the command needs the ``selfmodel[local]`` extra
(``serve`` needs ``[server]``): without it, it says which extra to install instead of failing
with a traceback.
"""

from __future__ import annotations

import sys

from selfmodel.extras import install_hint


def main() -> None:
    """Run the command line, or say which extra it needs."""
    try:
        from selfmodel.cli import main as run

        run()
    except ModuleNotFoundError as exc:
        hint = install_hint(exc, "this command")
        if hint is None:
            raise
        print(f"selfmodel: {hint}", file=sys.stderr)
        raise SystemExit(1) from None


if __name__ == "__main__":
    main()
