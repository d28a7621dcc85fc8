"""When the dbt manifest the assets are built from must be parsed again."""

from pathlib import Path

# What the manifest is parsed from: a file here newer than the manifest makes it stale.
PROJECT_SOURCES = ("dbt_project.yml", "models", "seeds", "macros", "tests", "snapshots")


def manifest_is_stale(project_dir: Path, manifest: Path) -> bool:
    """Whether ``manifest`` is missing or older than any file it is parsed from."""
    if not manifest.exists():
        return True
    built = manifest.stat().st_mtime
    for name in PROJECT_SOURCES:
        source = project_dir / name
        paths = source.rglob("*") if source.is_dir() else [source]
        if any(p.is_file() and p.stat().st_mtime > built for p in paths):
            return True
    return False
