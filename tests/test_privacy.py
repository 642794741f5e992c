"""flowmon.privacy: thresholds and the footnote (the release itself: tests/test_release.py)."""

from __future__ import annotations

import pytest

from flowmon import privacy

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
    assert privacy.k_by_stream(7) == {
        "caseload": 7,
        "return": 7,
        "referral": 11,
        "displacement": 7,
        "crossing": 7,
    }


def test_footnote_says_figures_are_adjusted_in_english_and_arabic():
    english = privacy.footnote(["caseload"])
    assert "adjusted slightly to protect individuals" in english
    assert "totals may differ from the sum of their parts" in english
    arabic = privacy.footnote(["referral", "displacement"], language="ar")
    assert "لحماية الأفراد" in arabic and "مجموع أجزائها" in arabic
    assert privacy.footnote(["displacement"]) == ""  # public data, published as it is
    with pytest.raises(ValueError, match="language"):
        privacy.footnote(language="fr")
