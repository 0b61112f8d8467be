"""decode_json reads text with json.loads' own scanner (issue 21): the same values, the same errors."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rpctest.untrusted import Undecodable, decode_json

_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=20,
)
_space = st.text(alphabet=" \t\r\n", max_size=3)


def _same(left: Any, right: Any) -> bool:
    """Equal, NaN equal to NaN, and of the same types throughout (1 is not 1.0 nor True)."""
    if isinstance(left, float) and isinstance(right, float) and math.isnan(left):
        return math.isnan(right)
    if type(left) is not type(right):
        return False
    if isinstance(left, list):
        return len(left) == len(right) and all(_same(a, b) for a, b in zip(left, right))
    if isinstance(left, dict):
        return list(left) == list(right) and all(_same(left[key], right[key]) for key in left)
    return bool(left == right)


@settings(max_examples=400, deadline=None)
@given(value=_values, before=_space, after=_space)
def test_a_document_decodes_as_json_loads_decodes_it(value: Any, before: str, after: str) -> None:
    text = before + json.dumps(value) + after
    assert _same(decode_json(text), json.loads(text))


@settings(max_examples=400, deadline=None)
@given(text=st.text(alphabet='{}[]",:0123456789.eE+-truefalsnNIy \t\n\ufeffx\\', max_size=12))
def test_any_text_decodes_or_fails_as_json_loads_does(text: str) -> None:
    try:
        expected = json.loads(text)
    except ValueError as exc:
        with pytest.raises(Undecodable) as caught:
            decode_json(text)
        assert type(caught.value.original) is type(exc) and caught.value.detail == str(exc)
    else:
        assert _same(decode_json(text), expected)


@pytest.mark.parametrize(
    ("text", "kind"),
    [("\ufeff{}", "syntax"), ("{} x", "syntax"), ("", "syntax"), ("[" * 100_000, "nesting"), ("1" * 5000, "number")],
)
def test_what_the_scanner_refuses_is_reported_as_json_loads_reports_it(text: str, kind: str) -> None:
    with pytest.raises(Undecodable) as caught:
        decode_json(text)
    assert caught.value.kind == kind
    if kind != "nesting":
        with pytest.raises(ValueError) as expected:
            json.loads(text)
        assert caught.value.detail == str(expected.value)
