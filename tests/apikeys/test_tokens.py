"""ACCEPTANCE K-01: type prefix + ≥128-bit CSPRNG secret + checksum."""

from __future__ import annotations

import random
import re

import pytest

from apikeys import tokens


def test_100k_keys_are_unique_and_match_the_published_regex() -> None:
    keys = [tokens.generate("vendor" if i % 2 else "tenant").secret for i in range(100_000)]
    assert len(set(keys)) == len(keys)
    scan = re.compile(tokens.SCAN_RE)
    assert all(tokens.KEY_RE.match(k) and scan.fullmatch(k) for k in keys)
    assert {k[:4] for k in keys} == {"ocv_", "oct_"}
    # Different prefixes too: the prefix is the lookup index.
    assert len({tokens.prefix_of(k) for k in keys}) == len(keys)


def test_the_secret_part_carries_at_least_128_bits() -> None:
    import math

    assert tokens.SECRET_LENGTH * math.log2(len(tokens.ALPHABET)) >= 128


@pytest.mark.slow
def test_the_checksum_rejects_every_single_character_mutation_of_1k_keys() -> None:
    rng = random.Random(1)
    alphabet = tokens.ALPHABET + "_-."
    for _ in range(1000):
        key = tokens.generate(rng.choice(["vendor", "tenant"])).secret
        assert tokens.is_well_formed(key)
        for position in range(len(key)):
            for char in alphabet:
                if char != key[position]:
                    mutated = key[:position] + char + key[position + 1 :]
                    assert not tokens.is_well_formed(mutated), (position, char)


def test_a_key_never_shows_in_the_repr_of_a_new_key() -> None:
    new = tokens.generate("vendor")
    assert new.secret not in repr(new)
    assert new.prefix in repr(new)
