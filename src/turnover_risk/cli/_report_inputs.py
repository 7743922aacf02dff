"""The register and the panel read by the report worker, handed to the report's process.

``turnover-risk report`` reads the register folder in two processes: its worker
(``cli/_report_worker.py``) for the sections that need only the register, and the command
itself, for the model's panel. The worker starts first and does not import scikit-learn, so
it has the register, and the panel too (with the settings the model file's manifest names),
while the command is still importing scikit-learn and loading the model. It sends them over
its pipe: each table as an Arrow IPC stream (pyarrow, as pandas writes Parquet), with the
register's metadata and the panel's ``attrs`` as JSON. The command then skips reading and
building them (0.6-0.9 s of a report on the shipped sample, ``benchmarks/results.md``).

The page is the same as when the command reads the folder itself: Arrow keeps every value
and dtype of these frames (``string``, ``Int64``, ``category``, ``datetime64``, floats,
booleans), and the command checks that each frame it decodes has the dtypes, shape and index
the worker reports; the tests compare the frames with :func:`pandas.testing.assert_frame_equal`.
Nothing is sent, and the command reads the folder itself, when the worker's reading warned
(the command would have printed the warnings), a source file had problems, or the metadata
is not plain JSON.

Nothing here runs code from the data: no pickle, only Arrow's columnar format and JSON.
"""

from __future__ import annotations

import io
import json
from dataclasses import fields
from typing import Any

JOB = "report-inputs"
PANEL = "panel"


def encode(register: Any, panel: Any | None) -> tuple[dict, bytes]:
    """The frame (JSON head, body) that carries ``register`` and ``panel`` (None: none);
    raises ValueError when they cannot be sent exactly (the command then reads them)."""
    from turnover_risk.data._rules import SourceInfo

    meta = dict(register.metadata)
    sources = meta.pop("sources", None)
    if not plain_json(meta):
        raise ValueError("the register's metadata is not plain JSON")
    sent_sources = None
    if sources is not None:
        sent_sources = {}
        for name, info in sources.items():
            if not isinstance(info, SourceInfo) or info.problems:
                raise ValueError(f"the source of {name} is a file with problems")
            sent_sources[name] = {
                "file": info.file,
                "csv": info.csv,
                "lines": _lines(info.lines),
                "reject_all": info.reject_all,
            }
    frames = dict(register.tables())
    attrs = None
    if panel is not None:
        attrs = panel.attrs
        if not plain_json(attrs):
            raise ValueError("the panel's attrs are not plain JSON")
        frames[PANEL] = panel
    for name, df in frames.items():
        if df.attrs and name != PANEL:
            raise ValueError(f"the table {name} has attrs")
    described, body = pack(frames)
    head = {
        "job": JOB,
        "ok": True,
        "frames": described,
        "metadata": meta,
        "sources": sent_sources,
        "attrs": attrs,
    }
    return head, body


def pack(frames: dict) -> tuple[list[dict], bytes]:
    """Frames with a plain index (0 to n - 1) and unique columns as Arrow IPC streams, one
    after the other, and what each is (name, size in bytes, shape, dtypes); raises ValueError
    for any other frame."""
    import pandas as pd
    import pyarrow as pa

    parts, described = [], []
    for name, df in frames.items():
        if not df.index.equals(pd.RangeIndex(len(df))) or not df.columns.is_unique:
            raise ValueError(f"the table {name} has another index or repeated columns")
        table = pa.Table.from_pandas(df, preserve_index=False)
        buf = io.BytesIO()
        with pa.ipc.new_stream(buf, table.schema) as writer:
            writer.write_table(table)
        parts.append(buf.getvalue())
        described.append(
            {"name": name, "size": len(parts[-1]), "shape": list(df.shape), "dtypes": _dtypes(df)}
        )
    return described, b"".join(parts)


def unpack(described: list[dict], body: bytes) -> dict:
    """The frames of :func:`pack`; raises ValueError when one is not what it says."""
    import pyarrow as pa

    frames, offset = {}, 0
    for part in described:
        size = int(part["size"])
        chunk = body[offset : offset + size]
        offset += size
        df = pa.ipc.open_stream(chunk).read_all().to_pandas()
        if list(df.shape) != part["shape"] or _dtypes(df) != part["dtypes"]:
            raise ValueError(f"the worker's {part['name']} came back with other dtypes")
        frames[part["name"]] = df
    if offset != len(body):
        raise ValueError("the worker's frame has bytes no table describes")
    return frames


def decode(head: dict, body: bytes) -> tuple[Any, Any | None]:
    """``(register, panel)`` from a frame of :func:`encode` (panel None when none was sent);
    raises ValueError when a frame is not what the worker described."""
    from turnover_risk.data._rules import SourceInfo
    from turnover_risk.data._schema import Register

    frames = unpack(head["frames"], body)
    panel = frames.pop(PANEL, None)
    if panel is not None:
        panel.attrs = head["attrs"]
    meta = dict(head["metadata"])
    if head.get("sources") is not None:
        known = {f.name for f in fields(SourceInfo)}
        sources = {}
        for name, info in head["sources"].items():
            if set(info) - known:
                raise ValueError("the worker described a source with unknown fields")
            sources[name] = SourceInfo(
                file=info["file"],
                csv=bool(info["csv"]),
                lines=_lines_of(info["lines"]),
                reject_all=bool(info["reject_all"]),
            )
        meta["sources"] = sources
    return Register(**frames, metadata=meta), panel


def plain_json(value: Any) -> bool:
    """Whether ``value`` comes back from JSON equal (and of the same types: a tuple does not)."""
    try:
        back = json.loads(json.dumps(value))
    except (TypeError, ValueError):
        return False
    return back == value and repr(back) == repr(value)


def _dtypes(df) -> list[str]:
    """Each column's name and dtype as text (a category's categories and order included)."""
    out = []
    for name, dtype in df.dtypes.items():
        text = repr(dtype)
        if getattr(dtype, "name", None) == "category":
            text += f" {list(dtype.categories)!r} {dtype.categories.dtype!r}"
        out.append(f"{name}: {text}")
    return out


def _lines(lines) -> Any:
    """A CSV file's physical line of each row as JSON: ``{"first": 2, "n": rows}`` when row
    ``i`` is on line ``i + 2`` (no blank line, no cell over several lines), else the list."""
    import numpy as np

    if lines is None:
        return None
    lines = np.asarray(lines)
    if lines.dtype != np.int64:
        raise ValueError("the rows' lines are not int64")
    if np.array_equal(lines, np.arange(2, len(lines) + 2)):
        return {"first": 2, "n": len(lines)}
    return lines.tolist()


def _lines_of(sent: Any) -> Any:
    import numpy as np

    if sent is None:
        return None
    if isinstance(sent, dict):
        return np.arange(sent["first"], sent["first"] + sent["n"], dtype=np.int64)
    return np.asarray(sent, dtype=np.int64)
