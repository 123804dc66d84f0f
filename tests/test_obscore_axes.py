"""Axis kinds from CTYPEi: the spectral ones of WCS paper III, counted up to NAXIS or WCSAXES."""

from __future__ import annotations

from handlers.obscore.axes import axis_types, is_spectral


def test_axis_types_follow_naxis_or_wcsaxes_in_fits_order() -> None:
    keywords = {"NAXIS": 2, "WCSAXES": 3, "CTYPE1": "ra---tan ", "CTYPE3": "VRAD"}

    assert axis_types(keywords) == ["RA---TAN", "", "VRAD"]


def test_an_absurd_axis_count_gives_no_axes() -> None:
    assert axis_types({"NAXIS": 10**9, "CTYPE1": "WAVE"}) == []
    assert axis_types({"NAXIS": True, "CTYPE1": "WAVE"}) == []


def test_spectral_types_are_those_of_paper_iii_with_any_algorithm_code() -> None:
    assert [is_spectral(t) for t in ("WAVE-TAB", "FREQ", "VRAD", "AWAV-LOG", "ENER")] == [True] * 5
    assert [is_spectral(t) for t in ("RA---TAN", "HPLN-TAN", "STOKES", "TIME", "")] == [False] * 5
