"""Whether a county of a batch is complete already: its ``latest`` run is of the same
config on inputs with the same content.

An input file is compared by its content hash, not by where it is: a results folder that
was copied or moved (with its ``osm-pieces`` folder, whose pieces the configs point at) is
still complete, and its counties are skipped, not solved again.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from planner.runs import latest_run

__all__ = ["is_complete", "same_config"]


def is_complete(home: str | Path, config: Any) -> Path | None:
    """The ``latest`` run of ``home`` when it is of this config on the same inputs.

    Parameters
    ----------
    home
        The county's output folder (its ``runs/`` and ``latest``).
    config
        The county's config as the batch would run it.

    Returns
    -------
    Path or None
        The run folder, or None when there is none, it is incomplete, its config differs,
        or an input's content differs from the one it was run on.
    """
    folder = latest_run(Path(home))
    if folder is None:
        return None
    run = folder / "run.json"
    if not run.is_file() or not (folder / "summary.json").is_file():
        return None
    try:
        manifest = json.loads(run.read_text(encoding="utf-8"))
        recorded = {str(i["path"]): str(i["sha256"]) for i in manifest.get("inputs", [])}
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if not same_config(manifest.get("config"), config.model_dump(mode="json"), recorded):
        return None
    return folder


def same_config(old: Any, new: Any, recorded: dict[str, str]) -> bool:
    """``old`` (a run's config) and ``new`` are equal but for where the inputs are.

    Parameters
    ----------
    old, new
        The configs as JSON values (``model_dump(mode="json")``).
    recorded
        The run's input files: path when run -> SHA-256.

    Returns
    -------
    bool
        True when every value is equal, or is a recorded input path in ``old`` whose
        file in ``new`` has the recorded content; and every recorded input still has it.
    """
    checked: set[str] = set()
    if not _same(old, new, recorded, checked):
        return False
    # inputs the config does not name (or names at the same path): as they were, in place
    return all(_has_hash(Path(p), recorded[p]) for p in recorded if p not in checked)


def _same(old: Any, new: Any, recorded: dict[str, str], checked: set[str]) -> bool:
    """Walk both values together; an input path counts as equal by its file's content."""
    if isinstance(old, dict) and isinstance(new, dict):
        return old.keys() == new.keys() and all(
            _same(old[k], new[k], recorded, checked) for k in old
        )
    if isinstance(old, list) and isinstance(new, list):
        return len(old) == len(new) and all(
            _same(a, b, recorded, checked) for a, b in zip(old, new, strict=True)
        )
    if isinstance(old, str) and isinstance(new, str) and old in recorded:
        if not _has_hash(Path(new), recorded[old]):
            return False
        checked.add(old)
        return True
    return bool(old == new)


def _has_hash(path: Path, sha256: str) -> bool:
    from planner.paths import sha256_file

    return path.is_file() and sha256_file(path) == sha256
