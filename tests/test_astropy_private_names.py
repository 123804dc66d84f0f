"""The private names of astropy that fits/cards.py reads cards with: present, and as that module expects.

An astropy upgrade may rename or change them without notice; these tests say which one
moved, where the header-equality tests of test_cards.py would only show cards read wrong.
"""

from __future__ import annotations

import re
import tomllib

import astropy
import pytest
from astropy.io import fits
from packaging.requirements import Requirement
from packaging.version import Version

from .support import ROOT


def supported_astropy() -> Requirement:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return next(Requirement(item) for item in project["dependencies"] if item.startswith("astropy"))


def test_the_installed_and_pinned_astropy_are_in_the_supported_range() -> None:
    supported = supported_astropy()
    pinned = next(line.split("==")[1].strip() for line in (ROOT / "requirements.txt").read_text().splitlines()
                  if line.startswith("astropy=="))
    for what, version in (("installed", astropy.__version__), ("pinned in requirements.txt", pinned)):
        assert Version(version) in supported.specifier, (
            f"astropy {version} ({what}) is outside the range fits/cards.py was checked for ({supported}): run "
            "this file's tests and tests/test_cards.py on it, then widen the range in pyproject.toml"
        )


@pytest.mark.parametrize(("name", "groups"), [
    ("_keywd_FSC_RE", set()),
    ("_value_NFSC_RE", {"bool", "strg", "numr", "cplx", "comm"}),
    ("_number_NFSC_RE", {"sign", "digt"}),
])
def test_the_card_expressions_exist_with_their_groups(name: str, groups: set[str]) -> None:
    expression = getattr(fits.Card, name, None)
    assert isinstance(expression, re.Pattern), f"astropy.io.fits.Card.{name} is gone or no longer an expression"
    assert groups <= set(expression.groupindex), f"Card.{name} lost the groups {groups - set(expression.groupindex)}"


def test_the_expressions_read_cards_as_cards_py_expects() -> None:
    assert fits.Card._keywd_FSC_RE.match("DATE-OBS") and not fits.Card._keywd_FSC_RE.match("date-obs")
    match = fits.Card._value_NFSC_RE.match("'M31 field'          / target")
    assert match is not None and match.group("strg", "comm") == ("M31 field", "target")
    match = fits.Card._value_NFSC_RE.match("T")
    assert match is not None and match.group("bool") == "T"
    number = fits.Card._number_NFSC_RE.match("-1.5D 3")
    assert number is not None and number.group("sign", "digt") == ("-", "1.5D 3")


def test_the_number_helpers_exist_and_read_as_astropy_does() -> None:
    from astropy.io.fits.card import FIX_FP_TABLE2, Undefined
    from astropy.io.fits.util import _str_to_num

    assert "1.5E3".translate(str.maketrans(FIX_FP_TABLE2)) == "1.5E3"
    assert "1.5d3".translate(str.maketrans(FIX_FP_TABLE2)) == "1.5e3"
    assert _str_to_num("42") == 42 and isinstance(_str_to_num("42"), int)
    assert _str_to_num("1.5E3") == 1500.0 and isinstance(_str_to_num("1.5E3"), float)
    assert isinstance(fits.Card.fromstring("NOVALUE =").value, Undefined)
