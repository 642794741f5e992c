"""Which view an export shows: URL-style filters turned into a session like the dashboard's.

Every export goes through ``session``: the same ``DataStore`` the dashboard builds for a browser session, so
an export has the dashboard's defaults (the last twelve months when no period is given), its checks (a month
outside the data is an error that names it) and its aggregated, suppressed ``view``.

Filters are given with the URL's names and formats (``office=KRT,PZU``, ``start=2024-01``), as a mapping, a
query string, or a whole copied URL.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from flowmon import aggregate, store

# The URL names an export understands, as the dashboard writes them (DataStore.to_query).
QUERY_NAMES = (
    "office",
    "start",
    "end",
    "stream",
    "nationality",
    "sex",
    "age_group",
    "state",
    "granularity",
    "indicator",
)
OPERATOR_K_ENV = "FLOWMON_K"


def parse_query(text: str) -> dict[str, str]:
    """``"office=KRT,PZU&start=2024-01"`` (or a whole URL, or ``?...``) as ``{"office": "KRT,PZU", ...}``.

    A name given twice keeps its values joined by commas (``office=KRT&office=PZU``). Names that are not
    filters (``present``, ``lang``) are dropped; an unknown name is an error, so that a typo is not ignored.
    """
    text = text.strip()
    if "://" in text or text.startswith("/"):
        text = urlsplit(text).query
    text = text.lstrip("?")
    parsed = parse_qs(text, keep_blank_values=False, strict_parsing=False)
    ignored = {"present", "lang"}
    unknown = sorted(set(parsed) - set(QUERY_NAMES) - ignored)
    if unknown:
        raise ValueError(f"query: unknown name {unknown[0]!r} (expected {', '.join(QUERY_NAMES)})")
    return {name: ",".join(values) for name, values in parsed.items() if name in QUERY_NAMES}


def query_of(filters: aggregate.Filters | None = None, **settings: str | None) -> dict[str, str]:
    """A ``Filters`` (as the dashboard has it) and view settings (granularity, indicator) as a query."""
    query = dict((filters or aggregate.Filters()).to_query())
    query.update({name: value for name, value in settings.items() if value})
    unknown = sorted(set(query) - set(QUERY_NAMES))
    if unknown:
        raise ValueError(f"{unknown[0]!r} cannot be exported (export takes {', '.join(QUERY_NAMES)})")
    return query


def operator_k(k: int | None = None) -> int | None:
    """The operator's suppression threshold: ``k`` if given, else ``$FLOWMON_K`` (as when serving)."""
    if k is not None:
        return k
    text = os.environ.get(OPERATOR_K_ENV)
    if not text:
        return None
    try:
        return int(text)
    except ValueError:
        raise ValueError(f"${OPERATOR_K_ENV}: {text!r} is not a whole number") from None


def session(
    data_dir: str | os.PathLike | None, query: Mapping[str, str | Iterable[str]], k: int | None = None
):
    """A ``DataStore`` over ``data_dir`` set to ``query``: the view the dashboard would show for that URL.

    Raises ValueError naming the filter when a value is unknown or a month has no data, and when the folder
    holds no data at all.
    """
    from flowmon.datastore import DataStore, open_dataset

    folder = store.resolve_data_dir(data_dir)
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder}: no such data folder")
    dataset = open_dataset(folder)
    if dataset.empty:
        raise ValueError(
            f"{folder} holds no data: run `flowmon demo --data-dir {folder}` or `flowmon ingest`"
        )
    query = {name: _text(value) for name, value in query.items() if _text(value)}
    unknown = sorted(set(query) - set(QUERY_NAMES))
    if unknown:
        raise ValueError(f"unknown filter {unknown[0]!r} (expected {', '.join(QUERY_NAMES)})")
    for name, allowed in (("granularity", ("month", "quarter", "year")), ("indicator", None)):
        if name in query:
            allowed = allowed or tuple(DataStore.param.indicator.objects)
            if query[name] not in allowed:
                raise ValueError(f"{name}: unknown value {query[name]!r} (expected {', '.join(allowed)})")
    session = DataStore(dataset, operator_k=operator_k(k))
    session.apply_query(query)
    if session.error:
        raise ValueError(session.error)
    _show_a_selected_stream(session)
    return session


def _text(value: str | Iterable[str] | None) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    return ",".join(str(v).strip() for v in value if str(v).strip())


def _show_a_selected_stream(session) -> None:
    """When the streams are filtered, the map must show one of them (not the default caseload)."""
    from flowmon.datastore import INDICATOR_STREAM

    selected = session.filters.event_streams() + (("displacement",) if session.filters.displacement else ())
    if INDICATOR_STREAM[session.indicator] in selected:
        return
    for indicator, stream in INDICATOR_STREAM.items():
        if stream in selected:
            session.indicator = indicator
            return


def default_name(session, suffix: str) -> Path:
    """A file name that says what is in it: ``flowmon_return_2025-01_2025-06.csv``."""
    start, end = session.period
    return Path(f"flowmon_{session.indicator}_{start}_{end}{suffix}")


def provenance(dataset) -> dict[str, dict[str, str]]:
    """Per stream: its source files (``source``, "; "-joined) and the latest "as of" date (``as_of``)."""
    found: dict[str, dict[str, list[str]]] = {}
    for source in dataset.sources():
        stream = str(source.get("stream") or "")
        name = Path(str(source.get("path") or "")).name or str(source.get("path") or "unknown source")
        as_of = str(source.get("as_of") or (source.get("ingested_at") or "")[:10])
        entry = found.setdefault(stream, {"source": [], "as_of": []})
        if name not in entry["source"]:
            entry["source"].append(name)
        if as_of:
            entry["as_of"].append(as_of)
    return {
        stream: {"source": "; ".join(entry["source"]), "as_of": max(entry["as_of"], default="")}
        for stream, entry in found.items()
    }


def write_export(path: str | os.PathLike, content: str | bytes) -> Path:
    """Write an export atomically (a reader never sees half a file), readable as any new file would be."""
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(f"{path} is a folder: give a file name with --out")
    if not path.parent.is_dir():  # a mistyped folder is refused, not created
        raise FileNotFoundError(f"{path.parent}: no such folder (create it first, or choose another --out)")
    text = content if isinstance(content, str) else None
    if text is not None:
        store.write_text_atomic(path, text)
    else:
        temporary = path.with_name(f".{path.name}.partial")
        temporary.write_bytes(content)
        os.replace(temporary, path)
    # The atomic writer's temporary file is private (0600); an export is meant to be shared.
    mask = os.umask(0)
    os.umask(mask)
    path.chmod(0o666 & ~mask)
    return path
