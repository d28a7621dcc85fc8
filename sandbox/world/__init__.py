"""Deterministic synthetic world: CRM, e-shop, ESP, helpdesk and web data with ground truth.

Public API::

    generate(people, seed, out, *, as_of=..., start=..., progress=None) -> manifest
    advance(world, days, *, progress=None) -> manifest
    load_manifest(world) -> manifest
    expected_counts(world) -> {"crm.contacts": n, ...}

See ``docs/world-format.md`` for the on-disk contract.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sandbox.world.core import WorldError
from sandbox.world.expected import expected_counts
from sandbox.world.generate import generate


def load_manifest(world: Path) -> dict[str, Any]:
    """Read ``world.json``.

    Args:
        world: World directory.

    Returns:
        The manifest.

    Raises:
        WorldError: ``world`` is not a world directory.
    """
    from sandbox.world.io import MANIFEST, read_json

    path = Path(world) / MANIFEST
    if not path.is_file():
        raise WorldError(f"{world} is not a world (no {MANIFEST})")
    manifest = read_json(path)
    if not isinstance(manifest, dict) or "version" not in manifest:
        raise WorldError(f"{path} is not a world manifest")
    return manifest


def advance(world: Path, days: int, *, progress: Any = None) -> dict[str, Any]:
    """Move a world forward by ``days`` (see :func:`sandbox.world.advancing.advance`)."""
    # The module is not named `advance`: importing it would rebind this package's
    # `advance` attribute (this function) to the module.
    from sandbox.world.advancing import advance as _advance

    return _advance(Path(world), days, progress=progress)


__all__ = ["WorldError", "advance", "expected_counts", "generate", "load_manifest"]
