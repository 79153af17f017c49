"""The Mann-Whitney U test in bench/enumeration_timing.py (A-05's timing half relies on it).

Reference values from ``scipy.stats.mannwhitneyu(a, b, method="asymptotic")`` (SciPy 1.17.1,
two-sided, continuity correction), which is not a dependency of this project.
"""

from __future__ import annotations

import pytest

from bench.enumeration_timing import mann_whitney_u

CASES = [
    # SciPy's documentation example (male vs female ages): no ties.
    ([19, 22, 16, 29, 24], [20, 11, 17, 12], 17.0, 0.11134688653314041),
    # Many ties across both samples: mid-ranks and the tie-corrected variance.
    ([1, 2, 2, 3, 3, 3, 4], [2, 3, 4, 4, 5, 5], 8.5, 0.07826242947714618),
    # Clearly shifted samples: small p.
    (
        [10.5, 11.2, 9.8, 12.1, 10.9, 11.7, 10.1, 12.4],
        [9.1, 8.7, 10.2, 9.5, 8.9, 9.9, 10.0],
        52.0,
        0.006536161174242675,
    ),
]


@pytest.mark.parametrize(("a", "b", "u", "p"), CASES)
def test_matches_scipy(a: list[float], b: list[float], u: float, p: float) -> None:
    assert mann_whitney_u(a, b) == (u, pytest.approx(p, rel=1e-9))


@pytest.mark.parametrize(("a", "b", "u", "p"), CASES)
def test_is_symmetric(a: list[float], b: list[float], u: float, p: float) -> None:
    # Swapping the samples gives the complementary U and the same two-sided p.
    assert mann_whitney_u(b, a) == (len(a) * len(b) - u, pytest.approx(p, rel=1e-9))


def test_identical_samples_show_no_difference() -> None:
    assert mann_whitney_u([3.0] * 10, [3.0] * 10)[1] == 1.0
    assert mann_whitney_u([1, 2, 3, 4], [1, 2, 3, 4])[1] == 1.0


def test_disjoint_samples_of_200_are_significant() -> None:
    _, p = mann_whitney_u([float(i) for i in range(200)], [float(i) for i in range(200, 400)])
    assert p < 1e-60
