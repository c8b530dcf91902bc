"""The three ``simulate`` output formats: ``json`` and ``lines`` for machines, ``table`` for people."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

import orjson

from custom_scheduler.simulate import Placement

FORMATS: Final = ("json", "lines", "table")
UNPLACED: Final = "-"


def render(placements: Sequence[Placement], fmt: str) -> str:
    """The output text (ending in a newline) in ``fmt``, one of :data:`FORMATS`."""
    if fmt == "json":
        return render_json(placements)
    if fmt == "lines":
        return render_lines(placements)
    if fmt == "table":
        return render_table(placements)
    raise ValueError(f"unknown format {fmt!r} (expected one of: {', '.join(FORMATS)})")


def render_lines(placements: Sequence[Placement]) -> str:
    """``ns/name node`` per pending pod, ``ns/name -`` when it could not be placed."""
    return "".join(f"{p.pod} {p.node or UNPLACED}\n" for p in placements)


def render_json(placements: Sequence[Placement]) -> str:
    """``{"results": [{pod, node, feasible, scores, reasons, message}, ...]}`` (DESIGN.md 3.1)."""
    results: list[dict[str, Any]] = []
    for placement in placements:
        result = placement.result
        if result is None:
            raise ValueError("json output needs placements simulated with details")
        results.append(
            {
                "pod": placement.pod,
                "node": result.node,
                "feasible": result.feasible,
                "scores": result.scores,
                "reasons": result.reasons,
                "message": result.message,
            }
        )
    return orjson.dumps({"results": results}, option=orjson.OPT_INDENT_2).decode() + "\n"


def render_table(placements: Sequence[Placement]) -> str:
    """Aligned columns: pod, node, its score, feasible/total nodes, and why when unplaced."""
    rows = [("POD", "NODE", "SCORE", "FEASIBLE", "MESSAGE")]
    for placement in placements:
        result = placement.result
        if result is None:
            raise ValueError("table output needs placements simulated with details")
        total = len(result.feasible) + len(result.reasons)
        score = str(result.scores[result.node]) if result.node is not None else UNPLACED
        rows.append(
            (
                placement.pod,
                result.node or UNPLACED,
                score,
                f"{len(result.feasible)}/{total}",
                result.message or "",
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=False)) + "  " + row[-1]
        for row in rows
    ]
    return "".join(line.rstrip() + "\n" for line in lines)
