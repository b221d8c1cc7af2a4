from __future__ import annotations

import pytest

from console.numbers import extract_user, normalize


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
