"""Synthetic demo data: all four streams, realistic in shape, reproducible from a seed, labelled synthetic.

Nothing here is real case data. The shapes follow public reporting so that every view and screenshot looks
like the real thing: the Khartoum MRRC (opened October 2015) stops with the war on 15 April 2023, operations
move to Port Sudan where MRRC services resume; Darfur offices close as the fighting reaches them; eastern
Sudan sees Eritrean, Ethiopian and Somali trafficking victims arriving through Kassala; voluntary returns
leave in charter movements of one to two hundred people; DTM-like displacement explodes from Khartoum after
April 2023, from Aj Jazirah after December 2023 and from Sennar after June 2024, with returns to Khartoum
and Aj Jazirah from 2025. Flow-monitoring-like crossings (monthly counts per point): ordinary trade and travel
before the war, then outflows to Egypt, Chad, South Sudan, Ethiopia and over the Red Sea from April 2023,
and returns from Egypt growing from January 2025.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from flowmon import schema, store
from flowmon._resources import reference_path

SYNTHETIC_LABEL = "SYNTHETIC DEMO DATA"
DEMO_SOURCE = "flowmon demo (synthetic)"
DEFAULT_START = pd.Period("2021-01", "M")
DEFAULT_EVENTS = 50_000
WAR = pd.Timestamp("2023-04-15")

# Rough relative populations (millions, 2020 projections) for where cases live outside their office's state.
STATE_WEIGHTS = {
    "SD01": 8.9, "SD02": 2.4, "SD03": 3.9, "SD04": 1.8, "SD05": 1.6, "SD06": 1.2, "SD07": 1.8, "SD08": 1.3,
    "SD09": 2.3, "SD10": 1.6, "SD11": 2.6, "SD12": 2.6, "SD13": 2.6, "SD14": 2.0, "SD15": 5.9, "SD16": 1.6,
    "SD17": 1.0, "SD18": 1.9, "SD19": 0.2,
}  # fmt: skip

# Nationality mixes by office region (shares; the rest of the world is rare).
NATIONALITIES = {
    "centre": {"ERI": 30, "ETH": 25, "SSD": 10, "NGA": 8, "TCD": 7, "SOM": 5, "NER": 5, "YEM": 3, "SYR": 3,
               "CAF": 2, "CMR": 1, "MLI": 1},
    "east": {"ERI": 55, "ETH": 28, "SOM": 10, "YEM": 3, "SSD": 2, "NGA": 2},
    "darfur": {"TCD": 40, "NER": 18, "NGA": 15, "CAF": 15, "SSD": 5, "CMR": 4, "MLI": 3},
    "south": {"SSD": 75, "ETH": 10, "ERI": 5, "CAF": 5, "TCD": 5},
}  # fmt: skip
OFFICE_REGION = {
    "KRT": "centre", "PZU": "centre", "KSL": "east", "GDF": "east", "NYL": "darfur", "FSH": "darfur",
    "GEN": "darfur", "DAE": "darfur", "ZAL": "darfur", "KAD": "south", "FUL": "south", "ABY": "south",
    "DMZ": "south",
}  # fmt: skip
# Countries people go back to through AVRR (Eritreans rarely ask to: they are mostly protection cases).
RETURN_NATIONALITIES = {"ETH": 28, "NGA": 22, "NER": 14, "TCD": 12, "SSD": 8, "SOM": 5, "CMR": 4, "MLI": 4,
                        "CAF": 2, "ERI": 1}  # fmt: skip

# Monthly weight of each stream at each office while it is open (relative units).
OFFICE_STREAM_WEIGHTS = {
    "caseload": {"KRT": 100, "PZU": 70, "KSL": 18, "GDF": 12, "NYL": 8, "FSH": 5, "GEN": 5, "KAD": 4,
                 "FUL": 3, "ABY": 3, "DAE": 2, "ZAL": 2, "DMZ": 4},
    "return": {"KRT": 40, "PZU": 30, "GDF": 6, "NYL": 5, "GEN": 4, "KSL": 3},
    "referral": {"KSL": 12, "GDF": 6, "KRT": 5, "PZU": 5, "DMZ": 1},
}  # fmt: skip

SHARES = {
    "caseload_category": {"screening": 30, "counselling": 15, "medical assistance": 15,
                          "information session": 15,
                          "AVRR counselling": 12, "referral": 8, "cultural orientation": 5},
    "exploitation": {"forced labour": 35, "sexual exploitation": 24, "domestic servitude": 15,
                     "forced begging": 5, "forced marriage": 6, "other": 5, "unknown": 10},
    "referred_to": {"medical": 25, "shelter": 20, "psychosocial": 25, "legal": 10, "AVRR": 15, "other": 5},
    "age_group": {"0-17": 15, "18-59": 79, "60+": 3, "unknown": 3},
}  # fmt: skip
FEMALE_SHARE = {"caseload": 0.38, "return": 0.25, "referral": 0.55}


@dataclass(frozen=True)
class Displacement:
    """One displacement wave: people leaving ``origin`` for ``destinations`` over a span of months."""

    origin: str
    destinations: dict[str, float]
    start: str
    peak: float  # individuals in the first month
    decay: float  # monthly factor after the first month
    months: int
    population_type: str = "idp"


WAVES = (
    # Before the war: localised conflict in Darfur, the Kordofans and Blue Nile.
    Displacement("SD04", {"SD06": 0.5, "SD03": 0.3, "SD02": 0.2}, "2021-01", 45_000, 0.75, 6),
    Displacement("SD03", {"SD03": 0.5, "SD05": 0.3, "SD06": 0.2}, "2021-07", 20_000, 0.7, 5),
    Displacement("SD08", {"SD08": 0.6, "SD14": 0.4}, "2022-07", 25_000, 0.6, 5),
    Displacement("SD18", {"SD18": 0.5, "SD07": 0.3, "SD13": 0.2}, "2022-06", 12_000, 0.7, 6),
    # April 2023: the war reaches Khartoum and Darfur.
    Displacement("SD01", {"SD16": 0.22, "SD15": 0.2, "SD09": 0.16, "SD17": 0.1, "SD12": 0.08, "SD11": 0.06,
                          "SD14": 0.07, "SD10": 0.05, "SD13": 0.06}, "2023-04", 1_400_000, 0.72, 20),
    Displacement("SD04", {"SD06": 0.45, "SD03": 0.35, "SD02": 0.2}, "2023-05", 180_000, 0.7, 12),
    Displacement("SD03", {"SD03": 0.4, "SD05": 0.3, "SD06": 0.2, "SD02": 0.1}, "2023-08", 250_000, 0.75, 14),
    Displacement("SD02", {"SD02": 0.7, "SD06": 0.15, "SD17": 0.15}, "2023-05", 90_000, 0.9, 30),
    # December 2023: Aj Jazirah; June 2024: Sennar; 2024: El Fasher besieged.
    Displacement("SD15", {"SD12": 0.3, "SD11": 0.2, "SD14": 0.15, "SD16": 0.15, "SD10": 0.1, "SD09": 0.1},
                 "2023-12", 420_000, 0.7, 16),
    Displacement("SD14", {"SD12": 0.45, "SD11": 0.2, "SD08": 0.2, "SD09": 0.15}, "2024-06", 330_000, 0.6, 10),
    Displacement("SD02", {"SD02": 0.6, "SD17": 0.2, "SD06": 0.2}, "2024-05", 160_000, 0.85, 18),
    Displacement("SD13", {"SD09": 0.5, "SD13": 0.3, "SD16": 0.2}, "2024-09", 60_000, 0.8, 14),
    # 2025: people return to Aj Jazirah and Khartoum once the front lines move away.
    Displacement("SD12", {"SD15": 0.7, "SD14": 0.3}, "2025-01", 90_000, 0.93, 22, "returnee"),
    Displacement("SD16", {"SD01": 0.8, "SD15": 0.2}, "2025-04", 70_000, 0.96, 20, "returnee"),
    Displacement("SD10", {"SD01": 0.6, "SD15": 0.4}, "2025-04", 35_000, 0.95, 20, "returnee"),
)  # fmt: skip


@dataclass(frozen=True)
class Route:
    """Monthly people through one point in one direction: a base level, a wave from ``start``, and who."""

    point: str
    direction: str
    base: float  # people a month before the war (trade, seasonal work, visits)
    start: str  # the wave's first month
    peak: float  # people in the wave's first month (on top of the base)
    decay: float  # monthly factor of the wave (above 1: growing, as returns)
    ramp: int  # months over which the wave builds up to its peak
    nationalities: dict[str, float]
    places: dict[str, float]  # out: where from (state pcodes); in: where to (state pcodes)
    transport: dict[str, float]
    female: float = 0.5


WAR_MONTH = "2023-04"
EGYPT_OUT = {"SD01": 0.6, "SD15": 0.15, "SD17": 0.1, "SD16": 0.1, "SD13": 0.05}
ROUTES = (
    Route("ARG", "out", 9_000, WAR_MONTH, 110_000, 0.86, 1, {"SDN": 0.95, "EGY": 0.03, "SSD": 0.02},
          EGYPT_OUT, {"bus": 0.85, "car": 0.1, "truck": 0.05}, 0.56),
    Route("ASH", "out", 5_000, WAR_MONTH, 60_000, 0.86, 1, {"SDN": 0.96, "EGY": 0.04}, EGYPT_OUT,
          {"bus": 0.85, "car": 0.15}, 0.56),
    Route("WHF", "transit", 3_000, WAR_MONTH, 70_000, 0.85, 1, {"SDN": 0.97, "SSD": 0.03}, EGYPT_OUT,
          {"bus": 0.7, "train": 0.2, "boat": 0.1}, 0.55),
    Route("ARG", "in", 8_000, "2025-01", 15_000, 1.12, 1, {"SDN": 0.97, "EGY": 0.03},
          {"SD01": 0.5, "SD15": 0.25, "SD17": 0.15, "SD16": 0.1}, {"bus": 0.9, "car": 0.1}, 0.52),
    Route("ASH", "in", 4_000, "2025-01", 9_000, 1.12, 1, {"SDN": 0.98, "EGY": 0.02},
          {"SD01": 0.55, "SD15": 0.25, "SD17": 0.2}, {"bus": 0.9, "car": 0.1}, 0.52),
    Route("ADR", "out", 1_500, "2023-05", 90_000, 0.8, 2, {"SDN": 0.92, "TCD": 0.08},
          {"SD04": 0.8, "SD06": 0.1, "SD03": 0.1}, {"on foot": 0.5, "animal": 0.3, "truck": 0.2}, 0.6),
    Route("ADR", "in", 1_200, "2024-01", 4_000, 0.97, 3, {"SDN": 0.7, "TCD": 0.3},
          {"SD04": 0.9, "SD06": 0.1}, {"on foot": 0.4, "animal": 0.3, "truck": 0.3}, 0.55),
    Route("JOD", "out", 1_500, "2023-05", 55_000, 0.84, 1, {"SSD": 0.65, "SDN": 0.35},
          {"SD09": 0.5, "SD01": 0.4, "SD15": 0.1}, {"bus": 0.5, "truck": 0.3, "on foot": 0.2}, 0.58),
    Route("KST", "transit", 2_000, "2023-05", 40_000, 0.86, 1, {"SSD": 0.6, "SDN": 0.4},
          {"SD01": 0.7, "SD15": 0.3}, {"boat": 0.4, "bus": 0.6}, 0.57),
    Route("GAL", "out", 2_000, "2023-05", 14_000, 0.82, 1, {"SDN": 0.55, "ETH": 0.35, "ERI": 0.1},
          {"SD12": 0.4, "SD01": 0.4, "SD15": 0.2}, {"bus": 0.7, "on foot": 0.3}, 0.5),
    Route("GAL", "in", 1_800, "2024-03", 3_000, 0.95, 2, {"ETH": 0.6, "SDN": 0.4},
          {"SD12": 0.8, "SD11": 0.2}, {"bus": 0.6, "on foot": 0.4}, 0.45),
    Route("KAS", "in", 800, "2023-06", 2_500, 0.93, 1, {"ERI": 0.9, "ETH": 0.1}, {"SD11": 1.0},
          {"on foot": 0.6, "bus": 0.4}, 0.5),
    Route("PZU", "out", 3_000, "2023-05", 18_000, 0.9, 3, {"SDN": 0.9, "EGY": 0.05, "YEM": 0.05},
          {"SD01": 0.6, "SD10": 0.2, "SD15": 0.2}, {"boat": 1.0}, 0.5),
    Route("PZU", "in", 2_500, "2024-06", 2_000, 1.02, 2, {"SDN": 0.95, "SAU": 0.05},
          {"SD10": 0.6, "SD01": 0.4}, {"boat": 1.0}, 0.45),
)  # fmt: skip
CROSSING_AGES = {"0-17": 0.42, "18-59": 0.51, "60+": 0.07}


def last_full_month(today: pd.Timestamp | None = None) -> pd.Period:
    today = pd.Timestamp.today() if today is None else today
    return today.to_period("M") - 1


def demo_months(months: int | None = None, end: pd.Period | None = None) -> pd.PeriodIndex:
    """From January 2021 (or the last ``months`` months) to last month."""
    end = last_full_month() if end is None else end
    start = DEFAULT_START if months is None else end - (months - 1)
    if start > end:
        raise ValueError(f"--months {months} leaves no month before {end}")
    return pd.period_range(start, end, freq="M")


def _choice(rng: np.random.Generator, shares: dict[str, float], size: int) -> np.ndarray:
    keys = np.array(list(shares))
    p = np.array(list(shares.values()), dtype=float)
    return keys[rng.choice(len(keys), size=size, p=p / p.sum())]


def _seasonality(months: pd.PeriodIndex) -> np.ndarray:
    """Movement through Sudan peaks in the dry season (November to April) and dips in the rains."""
    return 1.0 + 0.25 * np.cos(2 * np.pi * (months.month.to_numpy() - 1) / 12)


def _office_activity(months: pd.PeriodIndex, offices: pd.DataFrame) -> pd.DataFrame:
    """Share of each month an office was open, with the war's disruption and Port Sudan's ramp-up."""
    first = months.to_timestamp(how="start")
    last = months.to_timestamp(how="end")
    activity = {}
    for office in offices.itertuples():
        opened = pd.Timestamp(office.opened)
        closed = pd.Timestamp(office.closed) if pd.notna(office.closed) else pd.Timestamp.max
        open_days = (np.minimum(last, closed) - np.maximum(first, opened)).days.to_numpy() + 1
        share = np.clip(open_days / first.days_in_month.to_numpy(), 0, 1)
        if office.code == "PZU":
            # Services resume gradually after the move: about six months to full capacity.
            since = (months - pd.Period("2023-05", "M")).map(lambda d: d.n).to_numpy()
            share *= np.clip((since + 1) / 6, 0, 1)
        activity[office.code] = share
    return pd.DataFrame(activity, index=months)


def _trend(months: pd.PeriodIndex) -> np.ndarray:
    """Growth before the war, a trough after it, slow recovery (caseloads and returns alike)."""
    t = (months.to_timestamp() - pd.Timestamp("2021-01-01")).days.to_numpy() / 365.25
    trend = 1.0 + 0.18 * t
    after = months.to_timestamp() >= WAR
    trend[after] = 0.6 + 0.12 * (months.to_timestamp()[after] - WAR).days.to_numpy() / 365.25
    return trend


def _cells(months: pd.PeriodIndex, offices: pd.DataFrame) -> pd.DataFrame:
    """Expected relative intensity of every (month, office, stream) cell."""
    activity = _office_activity(months, offices)
    seasonal = _seasonality(months) * _trend(months)
    rows = []
    for stream, weights in OFFICE_STREAM_WEIGHTS.items():
        for office, weight in weights.items():
            rows.append(pd.DataFrame({
                "month": months, "office": office, "stream": stream,
                "intensity": weight * activity[office].to_numpy() * seasonal,
            }))  # fmt: skip
    return pd.concat(rows, ignore_index=True)


def _random_dates(rng: np.random.Generator, months: pd.Series, office_open: pd.Series) -> np.ndarray:
    start = months.dt.start_time.to_numpy()
    end = months.dt.end_time.dt.normalize().to_numpy()
    start = np.maximum(start, office_open["opened"].to_numpy())
    end = np.minimum(end, office_open["closed"].to_numpy())
    span = np.maximum((end - start).astype("timedelta64[D]").astype(int), 0)
    offsets = (rng.random(len(span)) * (span + 1)).astype(int)
    return start + offsets.astype("timedelta64[D]")


def _state_of_residence(rng: np.random.Generator, office_states: np.ndarray) -> np.ndarray:
    """Most cases live in their office's state; some come from elsewhere (not checked against the office)."""
    others = _choice(rng, STATE_WEIGHTS, len(office_states))
    return np.where(rng.random(len(office_states)) < 0.86, office_states, others)


def _events(rng: np.random.Generator, months: pd.PeriodIndex, n_events: int) -> pd.DataFrame:
    offices = pd.read_csv(reference_path("offices.csv"), parse_dates=["opened", "closed"])
    cells = _cells(months, offices)
    expected = cells["intensity"] / cells["intensity"].sum() * n_events
    cells["n"] = rng.poisson(expected)
    rows = cells.loc[cells.index.repeat(cells["n"])].reset_index(drop=True)
    n = len(rows)
    by_code = offices.set_index("code")
    office_info = by_code.loc[rows["office"], ["opened", "closed", "state_pcode"]].reset_index(drop=True)
    office_info["closed"] = office_info["closed"].fillna(pd.Timestamp("2100-01-01"))
    rows["date"] = _random_dates(rng, rows["month"], office_info)
    rows["state_pcode"] = _state_of_residence(rng, office_info["state_pcode"].to_numpy())

    stream = rows["stream"].to_numpy()
    region = rows["office"].map(OFFICE_REGION).to_numpy()
    nationality = np.empty(n, dtype=object)
    for name, shares in NATIONALITIES.items():
        at = region == name
        nationality[at] = _choice(rng, shares, int(at.sum()))
    is_return = stream == "return"
    nationality[is_return] = _choice(rng, RETURN_NATIONALITIES, int(is_return.sum()))
    nationality[rng.random(n) < 0.02] = schema.UNKNOWN_COUNTRY
    rows["nationality"] = nationality

    female = rng.random(n) < rows["stream"].map(FEMALE_SHARE).to_numpy()
    sex = np.where(female, "female", "male").astype(object)
    sex[rng.random(n) < 0.01] = "unknown"
    rows["sex"] = sex
    rows["age_group"] = _choice(rng, SHARES["age_group"], n)

    category = np.empty(n, dtype=object)
    at = stream == "caseload"
    category[at] = _choice(rng, SHARES["caseload_category"], int(at.sum()))
    at = stream == "referral"
    category[at] = _choice(rng, SHARES["exploitation"], int(at.sum()))
    referred_to = np.full(n, None, dtype=object)
    referred_to[at] = _choice(rng, SHARES["referred_to"], int(at.sum()))
    rows["category"] = category
    rows["referred_to"] = referred_to
    rows["destination"] = np.where(is_return, nationality, None)
    rows["count"] = 1

    rows = _charter_returns(rng, rows)
    rows = rows.sort_values(["date", "office", "stream"], kind="stable").reset_index(drop=True)
    prefix = rows["stream"].map({"caseload": "C", "return": "R", "referral": "T"})
    rows["record_id"] = "SYN-" + prefix + "-" + pd.Series(np.arange(1, len(rows) + 1)).map("{:06d}".format)
    return schema.conform(rows, "events")


def _charter_returns(rng: np.random.Generator, rows: pd.DataFrame) -> pd.DataFrame:
    """Returns leave in charters: an office's returnees to one country in a quarter fly on one date.

    The charter date is one of the group's own dates, so it lies within the office's open period.
    Reintegration moves from pending to in progress to completed over the year after departure.
    """
    returns = rows.loc[rows["stream"] == "return"]
    quarter = returns["month"].dt.asfreq("Q")
    keys = [returns["office"], quarter, returns["destination"]]
    chosen = returns.groupby(keys, observed=True)["date"].transform(lambda d: d.iloc[rng.integers(len(d))])
    rows.loc[returns.index, "date"] = chosen
    age_months = (rows["month"].max().to_timestamp() - chosen).dt.days / 30.4
    progress = age_months + rng.normal(0, 2, len(returns))
    rows.loc[returns.index, "category"] = np.select(
        [progress < 3, progress < 12], ["pending", "in progress"], default="completed"
    )
    return rows


def _flows(rng: np.random.Generator, months: pd.PeriodIndex) -> pd.DataFrame:
    frames = []
    for wave in WAVES:
        start = pd.Period(wave.start, "M")
        span = pd.period_range(start, start + wave.months - 1, freq="M")
        span = span[(span >= months[0]) & (span <= months[-1])]
        if not len(span):
            continue
        steps = np.array([(m - start).n for m in span])
        volume = wave.peak * wave.decay**steps * rng.lognormal(0, 0.15, len(span))
        for destination, share in wave.destinations.items():
            individuals = np.round(volume * share * rng.lognormal(0, 0.1, len(span)), -1).astype("int64")
            frames.append(pd.DataFrame({
                "period": span.to_timestamp(), "origin_pcode": wave.origin, "destination_pcode": destination,
                "population_type": wave.population_type, "individuals": individuals,
            }))  # fmt: skip
    if not frames:  # no displacement wave reaches into these months (a short demo far from 2023-2025)
        return schema.empty("flows")
    flows = pd.concat(frames, ignore_index=True)
    flows = flows.groupby(
        ["period", "origin_pcode", "destination_pcode", "population_type"], as_index=False, observed=True
    )["individuals"].sum()
    flows = flows[flows["individuals"] > 0]
    flows["households"] = (flows["individuals"] / rng.uniform(4.6, 5.4, len(flows))).round().astype("Int64")
    flows["source"] = f"{SYNTHETIC_LABEL}: DTM-like monthly flows"
    return schema.conform(flows.sort_values(["period", "origin_pcode", "destination_pcode"]), "flows")


def _crossings(rng: np.random.Generator, months: pd.PeriodIndex) -> pd.DataFrame:
    """Monthly counts per point, direction, nationality, sex, age group, origin or destination and transport.

    Rows are dated the first of their month (a monthly registry total); a route's people are spread over its
    cells by one multinomial draw a month, so the demo stays small (some 30,000 rows) and fast.
    """
    from flowmon.geo.crossing_points import crossing_points

    across = crossing_points().set_index("code")["country_across"]
    frames = []
    for route in ROUTES:
        start = pd.Period(route.start, "M")
        since = np.array([(m - start).n for m in months])
        wave = np.where(
            since >= 0,
            route.peak * np.minimum((since + 1) / route.ramp, 1) * route.decay ** np.maximum(since, 0),
            0,
        )
        wave = np.minimum(wave, 5 * route.peak)  # growing returns level off
        before_war = months < pd.Period(WAR_MONTH, "M")
        base = np.where(before_war, route.base, route.base * 0.6)  # ordinary traffic falls with the war
        volume = rng.poisson(np.maximum(base + wave, 0) * rng.lognormal(0, 0.08, len(months)))
        cells = pd.MultiIndex.from_product(
            [list(route.nationalities), ["female", "male"], list(CROSSING_AGES), list(route.places)],
            names=["nationality", "sex", "age_group", "place"],
        ).to_frame(index=False)
        p = (
            cells["nationality"].map(route.nationalities).to_numpy()
            * np.where(cells["sex"] == "female", route.female, 1 - route.female)
            * cells["age_group"].map(CROSSING_AGES).to_numpy()
            * cells["place"].map(route.places).to_numpy()
        )
        draws = np.stack([rng.multinomial(n, p / p.sum()) for n in volume])
        at_month, at_cell = np.nonzero(draws)
        rows = cells.iloc[at_cell].reset_index(drop=True)
        rows["date"] = months[at_month].to_timestamp()
        rows["count"] = draws[at_month, at_cell]
        rows["point"] = route.point
        rows["direction"] = route.direction
        # One means of transport per row (not a dimension of its own: it would multiply the rows).
        rows["transport"] = _choice(rng, route.transport, len(rows))
        country = across[route.point]
        if route.direction == "in":
            rows["origin"], rows["destination"] = country, rows["place"]
        else:  # out of Sudan, or passing a transit point towards the border
            rows["origin"], rows["destination"] = rows["place"], country
        frames.append(rows)
    table = pd.concat(frames, ignore_index=True)
    table["source"] = f"{SYNTHETIC_LABEL}: flow-monitoring-like monthly counts"
    table = table.sort_values(["date", "point", "direction"], kind="stable")
    return schema.conform(table, "crossings").reset_index(drop=True)


def generate(
    seed: int = 2023, months: int | None = None, events: int = DEFAULT_EVENTS, end: pd.Period | None = None
) -> dict[str, pd.DataFrame]:
    """Synthetic canonical tables: ``{"events": ..., "flows": ..., "crossings": ...}``, the same for the same
    arguments."""
    if events < 1:
        raise ValueError("--events must be at least 1")
    span = demo_months(months, end)
    rng = np.random.default_rng(seed)
    tables = {"events": _events(rng, span, events), "flows": _flows(rng, span)}
    # A generator of its own, so the crossings leave the other tables as they were before crossings existed.
    tables["crossings"] = _crossings(np.random.default_rng([seed, 15]), span)
    return tables


def write_demo(
    data_dir: str | Path,
    seed: int = 2023,
    months: int | None = None,
    events: int = DEFAULT_EVENTS,
    until: str | pd.Period | None = None,
):
    """Generate and store the demo tables (boundaries already installed in ``data_dir`` are kept).

    ``until`` is the last month (default: last month): pin it and the data no longer depend on the date.
    """
    data_dir = Path(data_dir)
    end = None if until is None else pd.Period(until, "M")
    tables = generate(seed=seed, months=months, events=events, end=end)
    span = demo_months(months, end)
    as_of = span[-1].to_timestamp(how="end").strftime("%Y-%m-%d")
    sources = [
        {
            "path": DEMO_SOURCE,
            "sha256": None,
            "stream": stream,
            "table": {schema.DISPLACEMENT: "flows", schema.CROSSING: "crossings"}.get(stream, "events"),
            "rows": int(rows),
            "accepted": int(rows),
            "rejected": 0,
            "ingested_at": store.now(),
            "synthetic": True,
            "as_of": as_of,
            "description": f"{SYNTHETIC_LABEL}: generated by flowmon demo --seed {seed}; not real cases",
            "seed": seed,
        }
        for stream, rows in _rows_by_stream(tables).items()
    ]
    manifest = store.commit(data_dir, tables, sources, synthetic=True, replace_sources=True)
    _write_raw_export(tables["events"], data_dir / "raw", seed)
    manifest = write_trqn_demo(data_dir, seed, span)
    return manifest


def _rows_by_stream(tables: dict[str, pd.DataFrame]) -> dict[str, int]:
    counts = tables["events"]["stream"].value_counts().reindex(schema.STREAMS, fill_value=0)
    return {
        **counts.to_dict(),
        schema.DISPLACEMENT: len(tables["flows"]),
        schema.CROSSING: len(tables["crossings"]),
    }


def _write_raw_export(events: pd.DataFrame, raw_dir: Path, seed: int) -> None:
    """A messy caseload export, as users bring them, for the explore notebook to ingest."""
    from flowmon.ingest.messy import write_messy_export  # ingest imports the store: import here, not above

    raw_dir.mkdir(parents=True, exist_ok=True)
    sample = events[events["stream"] == "caseload"].tail(400)
    write_messy_export(sample, raw_dir / "mrrc_caseload_export_SYNTHETIC.csv", seed)


def register(subparsers, common) -> None:
    parser = subparsers.add_parser(
        "demo",
        parents=[common],
        help="write synthetic demo data (clearly labelled synthetic) into the data folder",
        description="Write realistic SYNTHETIC data for all four streams into the data folder.",
    )
    parser.add_argument("--seed", type=int, default=2023, help="random seed (default 2023)")
    parser.add_argument(
        "--months", type=int, default=None, help="only the last M months (default: from 2021-01)"
    )
    parser.add_argument(
        "--events", type=int, default=DEFAULT_EVENTS, help="about how many events (default 50000)"
    )
    parser.add_argument(
        "--until", type=_month, default=None, metavar="YYYY-MM", help="last month (default: last month)"
    )
    parser.set_defaults(func=run)


def _month(text: str) -> pd.Period:
    try:
        return pd.Period(text, "M")
    except (ValueError, TypeError):
        raise argparse.ArgumentTypeError(f"{text!r} is not a month (YYYY-MM)") from None


def run(args: argparse.Namespace) -> int:
    data_dir = store.resolve_data_dir(args.data_dir)
    manifest = write_demo(data_dir, seed=args.seed, months=args.months, events=args.events, until=args.until)
    rows = manifest["rows"]
    print(
        f"{SYNTHETIC_LABEL} written to {data_dir}: {rows['events']:,} events, {rows['flows']:,} flow rows, "
        f"{rows['crossings']:,} crossing rows (seed {args.seed})"
    )
    return 0


# TRQN: Sudanese experts abroad on assignments with host institutions in states away from the fighting after
# April 2023 (Port Sudan's Red Sea, River Nile, Northern, Kassala, Gedaref), in Khartoum before it.
TRQN_STATES = {
    "before": {"SD01": 40, "SD15": 12, "SD16": 8, "SD10": 8, "SD11": 6, "SD12": 6, "SD09": 5, "SD17": 5,
               "SD13": 4, "SD03": 3, "SD02": 3},
    "after": {"SD10": 30, "SD16": 18, "SD17": 14, "SD11": 12, "SD12": 12, "SD09": 6, "SD14": 4, "SD15": 4},
}  # fmt: skip
TRQN_SECTORS = {"health": 35, "education": 25, "agriculture": 12, "water and sanitation": 10,
                "public administration": 8, "infrastructure": 5, "economy and finance": 3,
                "other": 2}  # fmt: skip
TRQN_RESIDENCE = {"SAU": 30, "ARE": 16, "GBR": 12, "QAT": 10, "USA": 8, "DEU": 6, "EGY": 6, "IRL": 4,
                  "CAN": 4, "NLD": 2, "NOR": 2}  # fmt: skip


def write_trqn_demo(data_dir: str | Path, seed: int, months: pd.PeriodIndex) -> dict:
    """Synthetic TRQN assignments (about five a month, two to six months each) over ``months``, stored."""
    from flowmon import trqn  # trqn reads through the ingest package, which imports the store

    rng = np.random.default_rng(seed + 16)
    starts = months.repeat(rng.poisson(5, len(months)))
    n = len(starts)
    day = rng.integers(0, 28, n)
    start = starts.to_timestamp() + pd.to_timedelta(day, unit="D")
    end = start + pd.to_timedelta(rng.integers(60, 183, n), unit="D")
    last = months[-1].to_timestamp(how="end").normalize()
    after = np.asarray(start >= WAR)
    state = np.where(after, _choice(rng, TRQN_STATES["after"], n), _choice(rng, TRQN_STATES["before"], n))
    rows = pd.DataFrame({
        "assignment_id": [f"SYN-Q-{i:05d}" for i in range(1, n + 1)],
        "phase": np.where(start < pd.Timestamp("2024-01-01"), "TRQN III", "TRQN IV"),
        "state_pcode": state,
        "sector": _choice(rng, TRQN_SECTORS, n),
        "host_institution": [f"{SYNTHETIC_LABEL} host institution {i}" for i in rng.integers(1, 40, n)],
        "expert_sex": np.where(rng.random(n) < 0.42, "female", "male"),
        "country_of_residence": _choice(rng, TRQN_RESIDENCE, n),
        "start": start,
        "end": pd.Series(end).where(end <= last),  # still under way at the end of the data: no end yet
    })  # fmt: skip
    source = {
        "path": DEMO_SOURCE, "sha256": None, "stream": trqn.STREAM, "table": "trqn", "rows": n, "accepted": n,
        "rejected": 0, "ingested_at": store.now(), "synthetic": True, "as_of": last.strftime("%Y-%m-%d"),
        "description": f"{SYNTHETIC_LABEL}: TRQN assignments generated by flowmon demo --seed {seed}",
        "seed": seed,
    }  # fmt: skip
    return trqn.commit(Path(data_dir), rows, [source], synthetic=True, replace_sources=True)
