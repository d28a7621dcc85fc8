"""``python -m sandbox.emulator WORLD_DIR [--host H] [--port P] [--scale S]`` (demo helper)."""

from __future__ import annotations

import argparse
from pathlib import Path

from sandbox.emulator.config import DEMO_RATE_LIMIT_SCALE
from sandbox.emulator.server import serve


def main() -> None:
    """Parse arguments and serve until Ctrl-C."""
    parser = argparse.ArgumentParser(description="closedloop vendor API emulator")
    parser.add_argument("world_dir", type=Path)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument(
        "--scale", type=float, default=DEMO_RATE_LIMIT_SCALE, help="rate-limit multiplier"
    )
    args = parser.parse_args()
    serve(args.world_dir, args.host, args.port, rate_limit_scale=args.scale)


if __name__ == "__main__":
    main()
