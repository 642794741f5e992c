import pandas as pd
import pytest
from conftest import DEMO_UNTIL

from flowmon import schema, store
from flowmon.cli import main
from flowmon.demo import SYNTHETIC_LABEL, generate


@pytest.fixture(scope="module")
def tables():
    return generate(seed=11)


def test_demo_is_reproducible_from_its_seed():
    a, b = generate(seed=5, months=12, events=3_000), generate(seed=5, months=12, events=3_000)
    for name in schema.TABLES:
        pd.testing.assert_frame_equal(a[name], b[name])
    c = generate(seed=6, months=12, events=3_000)
    assert not a["events"].equals(c["events"])


def test_demo_tables_are_valid_canonical_tables(tables):
    for name in schema.TABLES:
        accepted, rejections = schema.validate(tables[name], name)
        assert rejections.empty, rejections.head()
        assert len(accepted) == len(tables[name])
        assert tuple(tables[name].columns) == schema.COLUMNS[name]


def test_demo_has_every_stream_from_january_2021_to_last_month(tables):
    events, flows = tables["events"], tables["flows"]
    assert set(events["stream"].unique()) == set(schema.STREAMS)
    assert 45_000 <= len(events) <= 55_000
    months = events["date"].dt.to_period("M")
    assert months.min() == pd.Period("2021-01", "M")
    assert months.max() == pd.Timestamp.today().to_period("M") - 1
    assert flows["period"].min() < pd.Timestamp("2023-04-01") < flows["period"].max()


def test_offices_only_work_while_open(tables):
    events = tables["events"]
    khartoum = events[events["office"] == "KRT"]["date"]
    port_sudan = events[events["office"] == "PZU"]["date"]
    assert khartoum.max() <= pd.Timestamp("2023-04-15")
    assert port_sudan.min() >= pd.Timestamp("2023-05-01")


def test_the_war_of_april_2023_shows(tables):
    events, flows = tables["events"], tables["flows"]
    caseload = events[events["stream"] == "caseload"].set_index("date")["count"].resample("QS").sum()
    assert caseload["2023-04-01"] < 0.5 * caseload["2023-01-01"]
    displaced = flows.set_index("period")["individuals"].resample("MS").sum()
    assert displaced["2023-05-01"] > 10 * displaced[:"2023-03-01"].max()
    from_khartoum = flows[(flows["origin_pcode"] == "SD01") & (flows["period"] >= "2023-04-01")]
    assert from_khartoum["individuals"].sum() > 1_000_000


def test_realistic_nationalities_and_returns(tables):
    events = tables["events"]
    top = events["nationality"].value_counts().head(7).index
    assert {"ERI", "ETH", "SSD"} <= set(top)
    eastern_referrals = events[(events["stream"] == "referral") & events["office"].isin(["KSL", "GDF"])]
    assert eastern_referrals["nationality"].value_counts().index[0] == "ERI"
    returns = events[events["stream"] == "return"]
    assert (returns["destination"].astype(str) == returns["nationality"].astype(str)).all()
    charters = returns.groupby(["date", "office", "destination"], observed=True).size()
    assert charters.max() >= 100  # charter movements of a hundred people or more


def test_flowmon_demo_writes_a_synthetic_store(tmp_path, capsys):
    assert (
        main(
            [
                "demo",
                "--data-dir",
                str(tmp_path),
                "--months",
                "6",
                "--events",
                "1000",
                "--seed",
                "1",
                "--until",
                DEMO_UNTIL,
            ]
        )
        == 0
    )
    assert SYNTHETIC_LABEL in capsys.readouterr().out
    manifest = store.read_manifest(tmp_path)
    assert manifest["synthetic"] is True
    assert all(s["synthetic"] for s in manifest["sources"])
    assert {s["stream"] for s in manifest["sources"]} == {*schema.STREAMS, "displacement", "crossing", "trqn"}
    tables = store.load(tmp_path)
    assert len(tables["events"]) == manifest["rows"]["events"] > 0
    assert len(tables["flows"]) == manifest["rows"]["flows"] > 0
    assert len(tables["crossings"]) == manifest["rows"]["crossings"] > 0


def test_demo_crossings_leave_in_2023_and_come_back_from_egypt_from_2025():
    crossings = generate(seed=4, events=1_000, end=pd.Period("2025-09", "M"))["crossings"]
    assert crossings["source"].str.contains(SYNTHETIC_LABEL).all()
    year = crossings["date"].dt.year
    out = crossings[crossings["direction"] == "out"]
    by_country = out.groupby([year[out.index], "destination"], observed=True)["count"].sum()
    for country in ("EGY", "TCD", "SSD", "ETH"):
        assert by_country[(2023, country)] > 3 * by_country[(2022, country)]
    from_egypt = crossings[(crossings["direction"] == "in") & (crossings["origin"] == "EGY")]
    per_month = from_egypt.groupby(from_egypt["date"].dt.to_period("M"))["count"].sum()
    assert per_month[pd.Period("2025-09", "M")] > 3 * per_month[pd.Period("2024-09", "M")]


def test_demo_keeps_boundaries_already_installed(tmp_path, shared_data):
    from flowmon.geo import boundaries, import_boundaries

    import_boundaries(shared_data / "cod-ab" / "sdn_admbnda_adm1_cbs_nic_ssa_20200831.json", tmp_path)
    assert main(["demo", "--data-dir", str(tmp_path), "--months", "3", "--events", "500"]) == 0
    assert len(boundaries(tmp_path)) == 19
