"""flowmon.privacy: thresholds, hand-worked suppression patterns, and properties over random tables."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flowmon import privacy


def one_way(values: list[int], k: int = 5) -> privacy.Protected:
    table = pd.DataFrame({"cell": [f"c{i}" for i in range(len(values))], "value": values})
    return privacy.protect(table, k=k)


def hidden(protected: privacy.Protected) -> list[bool]:
    return protected.cells["suppressed"].tolist()


# ---------------------------------------------------------------------------------------------- k


def test_k_floors_and_operator_k():
    assert privacy.k_for("caseload") == 5 and privacy.k_for("referral") == 11
    assert privacy.k_for("return", 8) == 8
    assert privacy.k_for("referral", 8) == 11  # one k for all raises the others, never lowers referrals
    assert privacy.k_for("referral", {"referral": 15}) == 15
    assert privacy.k_for("caseload", {"referral": 15}) == 5
    with pytest.raises(ValueError, match="cannot be lowered below 5"):
        privacy.k_for("caseload", 3)
    with pytest.raises(ValueError, match="k for referral cannot be lowered below 11"):
        privacy.k_for("referral", {"referral": 6})
    with pytest.raises(ValueError, match="unknown stream"):
        privacy.k_for("cases")
    assert privacy.k_by_stream(7) == {"caseload": 7, "return": 7, "referral": 11, "displacement": 7}


def test_footnote_says_figures_are_adjusted_in_english_and_arabic():
    english = privacy.footnote(["caseload"])
    assert "adjusted slightly to protect individuals" in english
    assert "totals may differ from the sum of their parts" in english
    arabic = privacy.footnote(["referral", "displacement"], language="ar")
    assert "لحماية الأفراد" in arabic and "مجموع أجزائها" in arabic
    assert privacy.footnote(["displacement"]) == ""  # public data, published as it is
    with pytest.raises(ValueError, match="language"):
        privacy.footnote(language="fr")


def test_suppression_footnote_names_the_hidden_ranges():
    assert privacy.suppression_footnote(["caseload"]).startswith("* hidden: counts from 1 to 4,")
    text = privacy.suppression_footnote(["caseload", "referral"])
    assert "1 to 4 for caseload" in text and "1 to 10 for referral" in text


# ---------------------------------------------------------------------------------------------- by hand


def test_a_small_count_and_the_smallest_other_count_are_hidden():
    # 3 is below 5; the total (33) minus the shown cells would give it away, so 10 goes too. Zeros stay.
    result = one_way([0, 3, 10, 20])
    assert hidden(result) == [False, True, True, False]
    assert result.cells["value"].tolist()[0] == 0 and pd.isna(result.cells["value"][1])
    assert result.total().loc[0, "value"] == 33 and not result.total().loc[0, "suppressed"]


def test_two_small_counts_protect_each_other():
    result = one_way([3, 4, 10])
    assert hidden(result) == [True, True, False]  # 17 - 10 = 7 is neither 3 nor 4


def test_a_total_that_is_the_small_count_itself_is_hidden():
    result = one_way([3, 0, 0])
    assert hidden(result) == [True, False, False]
    assert result.total().loc[0, "suppressed"]


def test_no_margins_means_primary_suppression_only():
    result = privacy.protect(pd.DataFrame({"cell": ["a", "b"], "value": [3, 10]}), margins=())
    assert hidden(result) == [True, False]


def test_two_way_table_with_row_column_and_grand_totals():
    #        c1  c2 | total
    #   r1    2  20 |  22      2 is below 5: r1 needs a second hidden cell (20), column c1 too (30),
    #   r2   30  40 |  70      and then column c2 (40); row r2 has two hidden cells and is safe.
    #   r3   50  60 | 110
    table = pd.DataFrame(
        {
            "row": ["r1", "r1", "r2", "r2", "r3", "r3"],
            "col": ["c1", "c2"] * 3,
            "value": [2, 20, 30, 40, 50, 60],
        }
    )
    result = privacy.protect(table, ("row", "col"), [("row",), ("col",), ()])
    assert hidden(result) == [True, True, True, True, False, False]
    for margin in [("row",), ("col",), ()]:
        assert not result.total(margin)["suppressed"].any()
    assert result.total(("row",))["value"].tolist() == [22, 70, 110]


def test_k_per_stream():
    table = pd.DataFrame(
        {
            "stream": ["caseload", "caseload", "referral", "referral"],
            "state": ["a", "b"] * 2,
            "value": [8, 12, 8, 30],
        }
    )
    result = privacy.protect(table, ("stream", "state"), [("stream",)], k=privacy.k_by_stream())
    # 8 is shown for caseloads (k = 5) and hidden for referrals (k = 11), with 30 as its complement.
    assert hidden(result) == [False, False, True, True]
    assert result.total(("stream",))["value"].tolist() == [20, 38]


def test_linked_tables_hide_the_same_number_everywhere():
    # The map hides 2 and, to protect it from the stream total, 50; a second table that shows the same
    # count (caseload in SD02) must hide it too.
    state = pd.DataFrame({"stream": ["caseload"] * 2, "state_pcode": ["SD01", "SD02"], "value": [2, 50]})
    single = pd.DataFrame({"state_pcode": ["SD02"], "value": [50]})
    result = privacy.protect_linked(
        {
            "map": privacy.Linked(state, ("stream", "state_pcode"), (("stream",),)),
            "detail": privacy.Linked(single, ("state_pcode",), (), fixed={"stream": "caseload"}),
        }
    )
    assert hidden(result["map"]) == [True, True]
    assert hidden(result["detail"]) == [True]


def test_linked_tables_must_agree():
    one = pd.DataFrame({"stream": ["caseload"], "value": [10]})
    other = pd.DataFrame({"stream": ["caseload"], "value": [11]})
    with pytest.raises(ValueError, match="disagree"):
        privacy.protect_linked(
            {"a": privacy.Linked(one, ("stream",)), "b": privacy.Linked(other, ("stream",))}
        )


@pytest.mark.parametrize(
    ("table", "message"),
    [
        (pd.DataFrame({"cell": ["a"], "value": [-1]}), "must be counts"),
        (pd.DataFrame({"cell": ["a"], "value": [None]}), "must be counts"),
        (pd.DataFrame({"cell": ["a", "a"], "value": [1, 2]}), "two rows have the same cell"),
    ],
)
def test_bad_tables_are_refused(table, message):
    with pytest.raises(ValueError, match=message):
        privacy.suppress(table)


def test_suppress_keeps_other_columns_and_marks_cells():
    table = pd.DataFrame({"state": ["a", "b", "c"], "value": [0, 7, 9], "label": ["A", "B", "C"]})
    out = privacy.suppress(table, keys=["state"])
    assert list(out.columns) == ["state", "value", "label", "suppressed"]
    assert str(out["value"].dtype) == "Int64"
    assert out["value"].tolist() == [0, 7, 9]


# ---------------------------------------------------------------------------------------------- properties

counts = st.one_of(st.just(0), st.integers(1, 12), st.integers(13, 500))


@st.composite
def two_way_tables(draw):
    rows = draw(st.integers(1, 6))
    streams = draw(
        st.lists(st.sampled_from(["caseload", "return", "referral"]), min_size=1, max_size=3, unique=True)
    )
    values = draw(st.lists(counts, min_size=rows * len(streams), max_size=rows * len(streams)))
    table = pd.DataFrame(
        {
            "row": np.repeat([f"r{i}" for i in range(rows)], len(streams)),
            "stream": streams * rows,
            "value": values,
        }
    )
    operator_k = draw(st.sampled_from([None, 5, 8, 12]))
    return table, privacy.k_by_stream(operator_k)


MARGINS = [("row",), ("stream",), ()]


def equations(table: pd.DataFrame, result: privacy.Protected):
    """Every published total with the members it adds up: (total value, total hidden, [(value, hidden)])."""
    cells = table.assign(hidden=result.cells["suppressed"].to_numpy())
    for margin in MARGINS:
        totals = result.total(margin)
        groups = cells.groupby(list(margin)) if margin else [((), cells)]
        for label, group in groups:
            label = label if isinstance(label, tuple) else (label,)
            row = totals[(totals[list(margin)] == list(label)).all(axis=1)] if margin else totals
            true_total = int(group["value"].sum())
            yield (
                true_total,
                bool(row["suppressed"].iloc[0]),
                list(zip(group["value"], group["hidden"], strict=True)),
            )
    grand = result.total(())
    for margin in [("row",), ("stream",)]:
        totals = result.total(margin)
        members = [
            (int(v), bool(h))
            for v, h in zip(
                table.groupby(list(margin), sort=False)["value"].sum(), totals["suppressed"], strict=True
            )
        ]
        yield int(table["value"].sum()), bool(grand["suppressed"].iloc[0]), members


@settings(max_examples=150, deadline=None)
@given(two_way_tables())
def test_no_shown_count_is_small_and_no_hidden_count_can_be_worked_out(case):
    table, ks = case
    result = privacy.protect(table, ("row", "stream"), MARGINS, k=ks)
    cells = result.cells
    k = table["stream"].map(ks)
    shown = ~cells["suppressed"]
    # Shown cells are the true counts and none is from 1 to k-1; hidden ones are NA and never zero.
    assert (cells.loc[shown, "value"].astype("int64") == table.loc[shown, "value"]).all()
    assert not ((table["value"] >= 1) & (table["value"] < k) & shown).any()
    assert cells.loc[~shown, "value"].isna().all()
    assert (table.loc[~shown, "value"] > 0).all()
    # So are totals, with the largest k of the streams they add up.
    for margin in MARGINS:
        totals = result.total(margin)
        if margin == ("stream",):
            threshold = totals["stream"].map(ks)
        else:
            threshold = pd.Series(max(ks[s] for s in table["stream"]), index=totals.index)
        small = (totals["value"] >= 1) & (totals["value"] < threshold)
        assert not (small.fillna(False) & ~totals["suppressed"]).any()
    for total, total_hidden, members in equations(table, result):
        hidden_values = [v for v, h in members if h]
        # A hidden member never stands alone in an equation ...
        assert len(hidden_values) + total_hidden != 1
        # ... so no hidden cell equals a shown total minus the shown cells of its row or column.
        if not total_hidden and hidden_values:
            remainder = total - sum(v for v, h in members if not h)
            assert remainder not in hidden_values
            # ... nor are several pinned down: the largest a hidden cell could be reaches k.
            assert remainder - (len(hidden_values) - 1) >= min(ks.values())


@settings(max_examples=200, deadline=None)
@given(st.lists(counts, min_size=1, max_size=12), st.sampled_from([5, 11]))
def test_one_way_tables(values, k):
    result = one_way(values, k)
    hidden_mask = np.array(hidden(result))
    values = np.array(values)
    assert not (((values >= 1) & (values < k)) & ~hidden_mask).any()
    total_hidden = bool(result.total()["suppressed"].iloc[0])
    assert hidden_mask.sum() + total_hidden != 1
    if not total_hidden and hidden_mask.any():
        remainder = values.sum() - values[~hidden_mask].sum()
        assert remainder not in set(values[hidden_mask])
        assert remainder - (hidden_mask.sum() - 1) >= k  # three hidden cells summing to 3 would all be 1


def test_hidden_cells_that_sum_to_their_count_are_protected_further():
    # Shown total 16 and one shown cell of 13 would pin three hidden cells of 1 each.
    result = one_way([13, 1, 1, 1], 11)
    assert hidden(result) == [True, True, True, True]
    assert not result.total()["suppressed"].iloc[0]
