"""Lengths and memory sizes as written on the command line."""

import pytest

from ssmdoc.bench import parse_bytes, parse_lengths
from ssmdoc.errors import UsageError


def test_lengths_are_sorted_unique_with_binary_suffixes():
    assert parse_lengths("65536, 4096,16K,4K") == [4096, 16384, 65536]
    assert parse_lengths("1M") == [1 << 20]
    assert parse_lengths("0.5K") == [512]


@pytest.mark.parametrize("text", ["", ",", "abc", "4096,x", "0", "-5", "1.5", "4KB", "1e3", "999999999999"])
def test_bad_lengths_are_usage_errors(text):
    with pytest.raises(UsageError):
        parse_lengths(text)


def test_memory_sizes():
    assert parse_bytes("8G") == 8 << 30
    assert parse_bytes("8GiB") == 8 << 30
    assert parse_bytes("512mb") == 512 << 20
    assert parse_bytes("1000") == 1000


@pytest.mark.parametrize("text", ["", "lots", "0", "8X", "-1G"])
def test_bad_memory_sizes_are_usage_errors(text):
    with pytest.raises(UsageError):
        parse_bytes(text)
