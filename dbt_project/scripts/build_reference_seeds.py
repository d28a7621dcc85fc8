"""Regenerate ``seeds/country_codes.csv`` (free-text country → ISO-3166 alpha-2).

The seed is committed; this script documents where its rows come from and rebuilds it when
the variant list changes. Variants are the CLDR territory names (via ``babel``) in the
languages our customers type in, the same names without diacritics, the ISO alpha-2 and
alpha-3 codes, and a hand list of colloquial forms. Every variant is stored lower-cased and
trimmed, which is how ``country_iso2()`` compares it. A variant that would map to two
countries is dropped rather than guessed.

Run: ``.venv/bin/python dbt_project/scripts/build_reference_seeds.py``
"""

from __future__ import annotations

import csv
import unicodedata
from collections import defaultdict
from pathlib import Path

from babel import Locale
from babel.core import get_global

SEEDS = Path(__file__).resolve().parent.parent / "seeds"

# Languages customers type country names in: the markets (cs, sk, pl), their neighbours and
# English as the lingua franca of web forms.
LANGUAGES = ("en", "cs", "sk", "pl", "de", "hu", "uk", "fr", "it", "es")

# CLDR territories that are not ISO-3166-1 countries (continents, unions, pseudo-regions).
NOT_COUNTRIES = {"AC", "CP", "CQ", "DG", "EA", "EU", "EZ", "IC", "QO", "TA", "UN", "XA", "XB", "ZZ"}

COLLOQUIAL: dict[str, list[str]] = {
    "CZ": [
        "czech republic",
        "czech rep.",
        "czech rep",
        "czechia",
        "česká republika",
        "čr",
        "čechy",
        "czechy",
        "tschechien",
        "republika czeska",
        "česko",
        "cz.",
    ],
    "SK": [
        "slovakia",
        "slovak republic",
        "slovensko",
        "slovenská republika",
        "slowakei",
        "słowacja",
        "sk.",
    ],
    "PL": ["poland", "polska", "polsko", "polen", "rzeczpospolita polska", "republic of poland"],
    "GB": ["uk", "u.k.", "great britain", "britain", "england", "scotland", "wales"],
    "US": ["usa", "u.s.a.", "u.s.", "united states of america", "america"],
    "NL": ["holland", "the netherlands"],
    "DE": ["germany", "deutschland", "brd"],
    "AT": ["austria", "österreich"],
}

# Letters NFKD does not decompose.
EXTRA_ASCII = str.maketrans({"ł": "l", "ø": "o", "đ": "d", "ß": "ss", "æ": "ae", "œ": "oe"})


def strip_diacritics(text: str) -> str:
    """Return ``text`` without accents (``Česko`` → ``Cesko``, ``Łódź`` → ``Lodz``)."""
    decomposed = unicodedata.normalize("NFKD", text.lower().translate(EXTRA_ASCII))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def country_variants() -> dict[str, str]:
    """Return ``{variant: iso2}`` for every unambiguous variant."""
    english = Locale("en").territories
    codes = sorted(c for c in english if len(c) == 2 and c.isalpha() and c not in NOT_COUNTRIES)
    candidates: dict[str, set[str]] = defaultdict(set)

    def add(variant: str, code: str) -> None:
        variant = " ".join(variant.lower().split())
        if variant:
            candidates[variant].add(code)
            candidates[strip_diacritics(variant)].add(code)

    for code in codes:
        add(code, code)
        for language in LANGUAGES:
            name = Locale(language).territories.get(code)
            if name:
                add(name, code)
    for alias, targets in get_global("territory_aliases").items():
        if len(alias) == 3 and alias.isalpha() and len(targets) == 1 and targets[0] in codes:
            add(alias, targets[0])
    for code, names in COLLOQUIAL.items():
        for name in names:
            add(name, code)
    return {v: next(iter(c)) for v, c in sorted(candidates.items()) if len(c) == 1}


def main() -> None:
    """Write the seed file."""
    rows = country_variants()
    with (SEEDS / "country_codes.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["country_variant", "iso_3166_alpha2"])
        writer.writerows(rows.items())
    print(f"country_codes.csv: {len(rows)} variants")


if __name__ == "__main__":
    main()
