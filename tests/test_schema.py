import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flowmon import schema

GOOD = {
    "record_id": "MRRC-2024-0001",
    "stream": "caseload",
    "date": "2024-01-03",
    "office": "KRT",
    "state_pcode": "SD01",
    "nationality": "ERI",
    "sex": "female",
    "age_group": "18-59",
    "category": "screening",
    "destination": None,
    "referred_to": None,
    "count": 1,
}


def rows(*changes: dict, start: int = 5) -> pd.DataFrame:
    frame = pd.DataFrame([{**GOOD, **change} for change in changes])
    frame.index = range(start, start + len(frame))
    return frame


def test_good_rows_are_accepted_with_canonical_dtypes():
    accepted, rejections = schema.validate(
        rows({}, {"stream": "return", "category": "completed", "destination": "ETH"})
    )
    assert rejections.empty
    assert accepted.dtypes.to_dict() == schema.empty("events").dtypes.to_dict()
    assert list(accepted.index) == [5, 6]


@pytest.mark.parametrize(
    ("change", "column", "reason"),
    [
        ({"date": "2024-13-01"}, "date", "not a date"),
        ({"date": "1999-12-31"}, "date", "outside"),
        ({"record_id": "Amina Yusuf"}, "record_id", "pseudonymous"),
        ({"office": "XYZ"}, "office", "office code"),
        ({"state_pcode": "SD20"}, "state_pcode", "pcode"),
        ({"nationality": "Eritrea"}, "nationality", "alpha-3"),
        ({"sex": "f"}, "sex", "female"),
        ({"count": -2}, "count", "at least 1"),
        ({"count": "two"}, "count", "whole number"),
        ({"category": "completed"}, "category", "this stream"),
        ({"destination": "ETH"}, "destination", "returns only"),
        ({"stream": "return", "category": "completed"}, "destination", "returns only"),
        ({"referred_to": "shelter"}, "referred_to", "referrals only"),
        ({"age_group": None}, "age_group", "missing"),
    ],
)
def test_each_bad_cell_is_reported_with_row_column_value_and_reason(change, column, reason):
    accepted, rejections = schema.validate(rows({}, change))
    assert list(accepted.index) == [5]
    assert len(rejections) == 1
    rejection = rejections.iloc[0]
    assert rejection["row"] == 6
    assert rejection["column"] == column
    assert reason in rejection["reason"]
    value = change.get(column)
    if value is not None:
        assert rejection["value"] == value


def test_missing_columns_reject_everything():
    accepted, rejections = schema.validate(rows({}).drop(columns=["sex", "office"]))
    assert accepted.empty
    assert set(rejections["column"]) == {"sex", "office"}


def test_flows_validate():
    flows = pd.DataFrame({
        "period": ["2024-03-25", "2024-03-25"], "origin_pcode": ["SD01", "SD01"],
        "destination_pcode": ["SD15", "Gezira"], "population_type": ["idp", "idp"],
        "individuals": [196778, 5], "households": [None, 1], "source": ["DTM", "DTM"],
    })  # fmt: skip
    accepted, rejections = schema.validate(flows, "flows")
    assert len(accepted) == 1 and accepted["households"].isna().all()
    assert rejections[["row", "column", "value"]].values.tolist() == [[1, "destination_pcode", "Gezira"]]


cells = st.fixed_dictionaries({
    "stream": st.sampled_from([*schema.STREAMS, "bogus"]),
    "state_pcode": st.sampled_from(["SD01", "SD19", "SD00", "Khartoum"]),
    "sex": st.sampled_from([*schema.SEXES, "F", None]),
    "count": st.integers(-3, 5),
})  # fmt: skip


@settings(max_examples=40, deadline=None)
@given(st.lists(cells, min_size=1, max_size=30))
def test_every_row_is_accepted_or_rejected_never_both(changes):
    frame = rows(*changes, start=2)
    accepted, rejections = schema.validate(frame)
    rejected = set(rejections["row"])
    assert set(accepted.index) | rejected == set(frame.index)
    assert not set(accepted.index) & rejected
