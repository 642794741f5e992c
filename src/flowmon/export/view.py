"""Which view an export shows: URL names turned into a session like the dashboard's.

Every export goes through ``session``: the same ``DataStore`` the dashboard builds for a browser session, so
an export has the dashboard's defaults (the latest year when no period is given), its mapping of old links to
allowed views, and its ``view``, the ``ViewData`` every renderer draws.

Filters are given with the URL's names and formats (``office=KRT``, ``period=2024-Q1``), as a mapping, a
query string, or a whole copied URL.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path

from flowmon import filters, store

QUERY_NAMES = filters.NAMES
OPERATOR_K_ENV = "FLOWMON_K"


def parse_query(text: str) -> dict[str, str]:
    """``"office=KRT&period=2024"`` (or a whole URL) as ``{"office": "KRT", ...}``; page settings dropped."""
    query = filters.parse_query(text)
    return {name: value for name, value in query.items() if name not in filters.PAGE_NAMES}


def query_of(selected: filters.Filters | Mapping[str, str] | None = None) -> dict[str, str]:
    """A ``Filters`` or URL names as URL names."""
    if selected is None:
        return {}
    if isinstance(selected, filters.Filters):
        return selected.to_query()
    return dict(selected)


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
    data_dir: str | os.PathLike | None,
    query: Mapping[str, str | Iterable[str]],
    k: int | None = None,
    language: str = "en",
):
    """A ``DataStore`` over ``data_dir`` set to ``query``: the view the dashboard shows for that URL.

    ``language`` ("en" or "ar") words the view's title, notes and names, as ``?lang=ar`` does on the page.

    Its ``view`` (a ``flowmon.viewdata.ViewData``) is what every export draws. Raises ValueError naming the
    filter when a name or value is unknown, and when the folder holds no data at all.
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
    session = DataStore(dataset, operator_k=operator_k(k), language=language)
    period = query.get("period")
    if (
        period
        and filters.period_span(period)
        and period not in session.choices.periods[filters.period_kind(period)]
    ):
        months = dataset.months
        raise ValueError(f"period: no data for {period} (the data covers {months[0]} to {months[-1]})")
    session.apply_query(query)
    return session


def _text(value: str | Iterable[str] | None) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    return ",".join(str(v).strip() for v in value if str(v).strip())


def default_name(session, suffix: str) -> Path:
    """A file name that says what is in it: every filter of the view, ``flowmon_return_2025-Q1_KRT.csv``."""
    chosen = session.view.filters
    parts = [chosen.indicator, chosen.period or "all"]
    parts += [
        str(getattr(chosen, f.name))
        for f in filters.FIELDS
        if f.name not in ("period", "indicator", "granularity", "stream") and getattr(chosen, f.name)
    ]
    if chosen.stream:
        parts.append("+".join(chosen.stream))
    return Path("_".join(["flowmon", *parts]).replace("/", "-") + suffix)


def provenance(view) -> dict[str, dict[str, str]]:
    """Per stream of a ViewData: its source files (``source``, "; "-joined) and latest "as of" (``as_of``)."""
    found: dict[str, dict[str, list[str]]] = {}
    for source in view.sources:
        entry = found.setdefault(source["stream"], {"source": [], "as_of": []})
        if source["source"] not in entry["source"]:
            entry["source"].append(source["source"])
        if source["as_of"]:
            entry["as_of"].append(source["as_of"])
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
