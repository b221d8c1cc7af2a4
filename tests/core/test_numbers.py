from __future__ import annotations

import pytest

from console.calls.schemas import page_dict, screen_pop
from console.calls.services import CallFilter, open_inbound, search
from console.core.numbers import ImplausibleNumber, extract_user, normalize
from console.node import Hotline


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("13800138000", "+8613800138000"),
        ("+8613800138000", "+8613800138000"),
        ("008613800138000", "+8613800138000"),
        ("8613800138000", "+8613800138000"),
        ("138-0013-8000", "+8613800138000"),
        ("010-62345678", "+861062345678"),
        ("(021) 5555 6666", "+862155556666"),
        ("0755 88889999", "+8675588889999"),
        ("8001", "8001"),
        ("sip:+8613800138000@10.0.0.1:5060;transport=udp", "+8613800138000"),
        ('"Zhang" <sip:13800138000@trunk.example>', "+8613800138000"),
        ("tel:+442071234567", "+442071234567"),
    ],
)
def test_numbers_are_normalised(raw: str, expected: str) -> None:
    assert normalize(raw) == expected


def test_garbage_number_is_refused() -> None:
    with pytest.raises(ValueError):
        normalize("anonymous")


def test_extract_user_from_uri() -> None:
    assert extract_user("<sip:8001@127.0.0.1>") == "8001"


@pytest.mark.parametrize(
    ("raw", "kept"),
    [
        ("12345678901234567890", "12345678901234567890"),  # 20 digits: was +86 + 20 digits
        ("sip:12345678901234567890@trunk.example", "12345678901234567890"),
        ("+1234567890123456", "+1234567890123456"),  # 16 digits after the plus
        ("0012345678901234567", "0012345678901234567"),
        ("+0123456789", "+0123456789"),  # no country code starts with 0
    ],
)
def test_a_number_that_cannot_be_e164_is_refused_with_what_came(raw: str, kept: str) -> None:
    with pytest.raises(ImplausibleNumber) as err:
        normalize(raw)
    assert err.value.kept == kept
    assert isinstance(err.value, ValueError)  # callers that only know ValueError still refuse it


def test_the_longest_e164_number_is_still_accepted() -> None:
    assert normalize("+123456789012345") == "+123456789012345"
    assert normalize("008613800138000") == "+8613800138000"


def test_caller_with_a_20_digit_number_is_kept_and_flagged(hotline: Hotline) -> None:
    with hotline.sessions.begin() as s:
        call, q, callers = open_inbound(s, "sip:12345678901234567890@10.0.0.1", "10086", "w1")
        pop = screen_pop(call, q, callers)
        assert call.caller_number == "12345678901234567890" and call.caller_number_invalid
        assert pop["number"] == "12345678901234567890" and pop["number_invalid"] is True
        ok, q_ok, callers_ok = open_inbound(s, "13800138000", "10086", "w1")
        pop_ok = screen_pop(ok, q_ok, callers_ok)
        assert ok.caller_number == "+8613800138000" and not ok.caller_number_invalid
        assert pop_ok["number_invalid"] is False
    with hotline.sessions() as s:
        found = page_dict(search(s, CallFilter.from_args({"number": "12345678901234567890"})))
        assert [c["caller_number"] for c in found["items"]] == ["12345678901234567890"]
        assert found["items"][0]["caller_number_invalid"] is True
