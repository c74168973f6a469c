"""The catalogue's table of design claims known to be false, read without importing the fault machinery."""

from __future__ import annotations

import ast
import functools
from pathlib import Path

from harness.config import REPO_ROOT

CATALOGUE = REPO_ROOT / "scenarios" / "catalogue.py"


@functools.cache
def known_false(path: Path = CATALOGUE) -> dict[str, str]:
    """fid -> reason, from `KNOWN_FALSE = {...}` in scenarios/catalogue.py ({} if it cannot be read).

    Parsed, not imported: importing the catalogue pulls in Docker clients and the fault modules
    (about 1.5 s), which a report built on a CI box without them must not need.
    """
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"))
    except (OSError, SyntaxError):
        return {}
    for node in tree.body:
        target: ast.expr
        if isinstance(node, ast.AnnAssign) and node.value is not None:
            target, value = node.target, node.value
        elif isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, value = node.targets[0], node.value
        else:
            continue
        if isinstance(target, ast.Name) and target.id == "KNOWN_FALSE":
            try:
                table = ast.literal_eval(value)
            except ValueError:
                return {}
            return {str(k): str(v) for k, v in table.items()} if isinstance(table, dict) else {}
    return {}
