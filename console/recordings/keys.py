"""Print a new recording key entry for HOTLINE_RECORDING_KEYS (no Hotline setup needed).

    python -m console.recordings.keys [key-id]

Rotation: prepend the printed entry to HOTLINE_RECORDING_KEYS ("new,old,...") and restart
the nodes; see console/recordings/store.py.
"""

from __future__ import annotations

import sys

from console.recordings.store import generate_key


def main(argv: list[str]) -> int:
    print(generate_key(argv[0] if argv else None))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
