"""The protected release: record keys, the perturbation tables, ``privacy.release`` and the audit."""

from __future__ import annotations

import os
import stat

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flowmon import aggregate, cli, privacy, ptable, recordkeys, schema, store
from flowmon.demo import generate, write_demo
from flowmon.ptable import make_ptable

SECRET = bytes(range(32))


def keyed_events(n: int = 3_000, seed: int = 3) -> pd.DataFrame:
    return recordkeys.attach(generate(seed=seed, months=12, events=n)["events"], SECRET)


# ---------------------------------------------------------------------------------------------- p-tables


@pytest.mark.parametrize("k", sorted(make_ptable.DEFAULTS))
def test_the_shipped_ptable_is_what_its_script_makes(k):
    shipped = pd.read_csv(ptable.shipped_path(k))
    made = make_ptable.make_ptable(make_ptable.DEFAULTS[k])
    pd.testing.assert_frame_equal(shipped, made, check_dtype=False)
    assert list(shipped.columns) == ["pcv", "ckey", "pvalue"]  # the ONS layout


@pytest.mark.parametrize("k", [6, 8, 13, 20])
def test_an_operators_threshold_makes_a_table(k):
    # SciPy 1.17's BFGS stopped short of rows an operator's k needs (raising); the solve now ends exactly.
    table = make_ptable.make_ptable(make_ptable.default_parameters(k), max_pcv=3 * k)
    small = table[(table["pcv"] > 0) & (table["pcv"] < 2 * k)]
    published = small["pcv"] + small["pvalue"]
    assert not published.between(1, k - 1).any()


@pytest.mark.parametrize("k", sorted(make_ptable.DEFAULTS))
def test_ptable_rows_are_unbiased_where_they_can_be_and_large_counts_stay_close(k):
    table = ptable.load(k)
    noise = table.noise
    parameters = make_ptable.DEFAULTS[k]
    # Counts well above k: mean noise exactly 0, and within 3 of the truth for 95% of keys.
    for count in (k + 2 * parameters.D, 100, 500, 750):
        assert noise[count].sum() == 0
        assert (np.abs(noise[count]) <= 3).mean() >= 0.95
    # Small counts that can reach k are unbiased too (0 or k and more, on average the count).
    for count in range(1, k):
        if count + parameters.D >= k:
            assert abs(noise[count].mean()) < 0.02


@settings(max_examples=200, deadline=None)
@given(
    counts=st.lists(st.integers(min_value=0, max_value=5_000), min_size=1, max_size=50),
    keys=st.lists(st.integers(min_value=0, max_value=10_000), min_size=50, max_size=50),
    k=st.sampled_from([5, 11]),
)
def test_no_published_count_is_from_1_to_k_minus_1_and_zero_stays_zero(counts, keys, k):
    table = ptable.load(k)
    counts = np.array(counts)
    published = table.perturb(counts, np.array(keys[: len(counts)]))
    assert not ((published >= 1) & (published < k)).any()
    assert (published >= 0).all()
    assert (published[counts == 0] == 0).all()
    assert (np.abs(published - counts)[counts >= k + 2 * make_ptable.DEFAULTS[k].D] <= 12).all()


def test_an_operator_ptable_in_the_data_folder_is_used_and_checked(tmp_path):
    folder = tmp_path / "ptable"
    make_ptable.write(
        make_ptable.make_ptable(make_ptable.Parameters(k=5, D=7, V=3.0)), folder / "ptable_k5.csv"
    )
    own = ptable.load(5, tmp_path)
    assert own.source.endswith("ptable_k5.csv") and own.source != ptable.load(5).source
    bad = make_ptable.make_ptable(make_ptable.DEFAULTS[5])
    bad.loc[(bad["pcv"] == 3) & (bad["ckey"] == 0), "pvalue"] = -1  # 3 published as 2
    make_ptable.write(bad, tmp_path / "other" / "ptable" / "ptable_k5.csv")
    with pytest.raises(ValueError, match="count 3 can be published from 1 to 4"):
        ptable.load(5, tmp_path / "other")


def test_a_higher_operator_k_gets_a_table_made_for_it():
    table = ptable.load(7)
    published = table.perturb(np.arange(0, 200), np.arange(200) % 256)
    assert not ((published >= 1) & (published < 7)).any()


# ---------------------------------------------------------------------------------------------- release


def release_of(events: pd.DataFrame, table: str = "by_state", **kwargs) -> pd.DataFrame:
    return privacy.release(getattr(aggregate, table)(events, **kwargs))


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), extra=st.integers(0, 300))
def test_the_same_records_give_the_same_number_whatever_the_order_and_the_other_rows(seed, extra):
    events = keyed_events(2_000)
    khartoum = events["state_pcode"] == "SD01"
    first = release_of(events).set_index(["stream", "state_pcode"])["value"]
    rng = np.random.default_rng(seed)
    # Shuffle the rows and add others in other states: Khartoum's records are unchanged.
    others = events[~khartoum].sample(extra, replace=True, random_state=seed) if extra else events.iloc[:0]
    others = others.assign(record_id=[f"X{i}" for i in range(len(others))])
    others = recordkeys.attach(others.drop(columns=recordkeys.RECORD_KEY), SECRET)
    mixed = pd.concat([events, others], ignore_index=True)
    mixed = mixed.iloc[rng.permutation(len(mixed))].reset_index(drop=True)
    second = release_of(mixed).set_index(["stream", "state_pcode"])["value"]
    for stream in schema.STREAMS:
        assert second[(stream, "SD01")] == first[(stream, "SD01")]
    # The same records reached by another table (an office's view of its state) give the same number.
    kpis = privacy.release(
        aggregate.kpis(events, f=aggregate.Filters(states=("SD01",), start="2000-01"))
    ).set_index("stream")["value"]
    for stream in schema.STREAMS:
        assert kpis[stream] == first[(stream, "SD01")]


def test_release_drops_keys_recomputes_the_change_and_leaves_displacement_as_it_is():
    events = keyed_events(2_000)
    flows = generate(seed=3, months=12, events=2_000)["flows"]
    kpis = aggregate.kpis(events, flows, aggregate.Filters(start="2024-01", end="2024-03"))
    out = privacy.release(kpis)
    assert not any("ckey" in c for c in out.columns)
    assert not out["suppressed"].any()
    shown = out.dropna(subset=["previous"])
    assert (shown["change"] == shown["value"] - shown["previous"]).all()
    displaced = out.set_index("stream").loc["displacement"]
    truth = kpis.set_index("stream").loc["displacement"]
    assert displaced["value"] == truth["value"]


def test_release_refuses_counts_of_cases_without_cell_keys():
    events = generate(seed=3, months=12, events=500)["events"]  # not through the store: no record keys
    with pytest.raises(ValueError, match="no cell key"):
        privacy.release(aggregate.by_state(events))
    with pytest.raises(ValueError, match="no stream column"):
        privacy.release(aggregate.return_flows(keyed_events(500)))
    flows = privacy.release(aggregate.return_flows(keyed_events(500)), stream="return")
    assert "ckey" not in flows.columns


def test_rows_of_several_identical_events_add_their_key_times_their_count():
    events = keyed_events(400)
    one = events.iloc[:1].assign(count=3)
    three = pd.concat([events.iloc[:1]] * 3, ignore_index=True)
    assert aggregate.by_state(one)["ckey"].tolist() == aggregate.by_state(three)["ckey"].tolist()


def test_release_matches_the_ons_reference_implementation():
    ons = pytest.importorskip("cell_key_perturbation.create_perturbed_table")
    events = keyed_events(3_000)
    table = ptable.load(5)
    ptable_frame = pd.read_csv(ptable.shipped_path(5))
    caseload = events[events["stream"] == "caseload"]
    micro = caseload.loc[caseload.index.repeat(caseload["count"])]
    micro = pd.DataFrame(
        {
            "state": micro["state_pcode"].astype(str).to_numpy(),
            "sex": micro["sex"].astype(str).to_numpy(),
            "record_key": micro[recordkeys.RECORD_KEY].astype(int).to_numpy(),
        }
    )
    theirs = ons.create_perturbed_table(micro, ptable_frame, ["state"], ["sex"], "record_key", threshold=0)
    theirs = theirs.set_index(["state", "sex"])["count"]
    for (state, sex), value in theirs.items():
        f = aggregate.Filters(streams=("caseload",), states=(state,), sexes=(sex,))
        ours = privacy.release(aggregate.kpis(events, f=f)).set_index("stream").at["caseload", "value"]
        assert ours == value, (state, sex)
    assert table.k == 5


# ---------------------------------------------------------------------------------------------- the store


def test_record_keys_are_stored_kept_and_the_same_when_a_record_comes_again(data_dir):
    tables = generate(seed=3, months=6, events=1_000)
    store.commit(data_dir, tables, [{"path": "x"}])
    secret_file = data_dir / recordkeys.SECRET_FILE
    assert stat.S_IMODE(os.stat(secret_file).st_mode) == 0o600
    first = store.load_table(data_dir, "events")
    assert first[recordkeys.RECORD_KEY].dtype == np.uint8
    assert first[recordkeys.RECORD_KEY].nunique() > 200  # spread over 0..255
    # Stored again with new rows (as ingest does): old rows keep their keys; a repeated record gets its own.
    again = pd.concat([first, tables["events"].iloc[:10]], ignore_index=True)
    store.commit(data_dir, {"events": again}, [{"path": "y"}])
    second = store.load_table(data_dir, "events")
    assert (second[recordkeys.RECORD_KEY].iloc[: len(first)] == first[recordkeys.RECORD_KEY]).all()
    assert (
        second[recordkeys.RECORD_KEY].iloc[len(first) :].to_numpy() == first[recordkeys.RECORD_KEY].iloc[:10]
    ).all()


def test_a_store_written_before_record_keys_gets_the_same_keys_on_every_load(data_dir):
    events = generate(seed=3, months=6, events=1_000)["events"]
    events.to_parquet(store.table_path(data_dir, "events"), index=False)  # an old store: no keys, no secret
    first = store.load_table(data_dir, "events")[recordkeys.RECORD_KEY]
    second = store.load_table(data_dir, "events")[recordkeys.RECORD_KEY]
    assert (first == second).all()
    store.commit(data_dir, {"events": store.load_table(data_dir, "events")}, [])
    assert (store.load_table(data_dir, "events")[recordkeys.RECORD_KEY] == first).all()


def test_keys_depend_on_the_secret_and_the_record_not_on_the_row():
    events = generate(seed=3, months=6, events=500)["events"]
    a = recordkeys.attach(events, SECRET)[recordkeys.RECORD_KEY]
    b = recordkeys.attach(events.iloc[::-1], SECRET)[recordkeys.RECORD_KEY].iloc[::-1]
    assert (a.to_numpy() == b.to_numpy()).all()
    c = recordkeys.attach(events, bytes(32))[recordkeys.RECORD_KEY]
    assert (a != c).mean() > 0.9


def test_no_record_key_cell_key_or_secret_reaches_an_export(tmp_path):
    folder = tmp_path / "demo"
    write_demo(folder, seed=5, events=3_000, months=12)
    secret = (folder / recordkeys.SECRET_FILE).read_bytes()
    outputs = []
    for kind in ("csv", "html"):
        out = tmp_path / f"view.{kind}"
        assert cli.main(["export", kind, "--data-dir", str(folder), "--out", str(out)]) == 0
        outputs.append(out.read_text(encoding="utf-8"))
    for text in outputs:
        assert recordkeys.RECORD_KEY not in text and "ckey" not in text
        assert secret.hex() not in text


# ---------------------------------------------------------------------------------------------- audit


@pytest.mark.slow
def test_the_audit_of_a_small_demo_store_meets_the_targets(tmp_path, capsys):
    from flowmon import audit

    folder = tmp_path / "demo"
    folder.mkdir()
    # A fixed secret, so the run is reproducible (a store's own secret is random).
    (folder / recordkeys.SECRET_FILE).write_bytes(SECRET)
    write_demo(folder, seed=5, events=8_000, months=24)
    report = audit.run_audit(store.load_table(folder, "events"), budget=25, seed=1, data_dir=folder)
    for stream, result in report["streams"].items():
        assert result["small_cells"] > 20, stream
        assert result["truth_outside_bounds"] == 0  # the bounds are right, so the figures are meaningful
        assert result["published_in_1_to_k_minus_1"] == 0
        assert result["disclosed_exactly"] == 0
        assert result["narrowed_share"] <= 0.01
        assert result["hit_rate"] <= 0.35
        assert (
            result["utility"]["100+"]["within_3pct"] is None
            or result["utility"]["100+"]["within_3pct"] >= 0.95
        )
        assert all(report["pass"][stream].values()), report["pass"][stream]
    assert cli.main(
        ["audit", "--data-dir", str(folder), "--budget", "5", "--json", str(tmp_path / "a.json")]
    ) in (0, 1)
    assert "small cells audited" in capsys.readouterr().out


def test_a_table_of_several_streams_together_is_published_with_the_highest_k():
    events = keyed_events(2_000)
    table = aggregate.by_nationality(events)
    together = table.groupby("nationality", as_index=False).agg(value=("value", "sum"), ckey=("ckey", "sum"))
    together["ckey"] = together["ckey"] % 256
    out = privacy.release(together, stream=("caseload", "referral"))
    assert not ((out["value"] >= 1) & (out["value"] < 11)).any()
    assert (privacy.release(together, stream=("caseload", "return"))["value"] != out["value"]).any()
