"""Vocabularies: Czech/Slovak/Polish names, streets and cities taken from Faker's providers as
plain data (sampled with numpy; Faker is never called per row), plus small hand-made lists.

Popularity weights are Zipf-like over a fixed permutation of each list, so that common names
repeat (``Jan Novák`` collides often, as in a real population).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from functools import cache

import numpy as np
from faker.providers.address import cs_CZ as addr_cz
from faker.providers.address import pl_PL as addr_pl
from faker.providers.address import sk_SK as addr_sk
from faker.providers.person import cs_CZ as person_cz
from faker.providers.person import pl_PL as person_pl
from faker.providers.person import sk_SK as person_sk

from sandbox.world.core import obj

COUNTRIES = ("CZ", "SK", "PL")
CALLING_CODE = {"CZ": 420, "SK": 421, "PL": 48}
CURRENCY = {"CZ": "CZK", "SK": "EUR", "PL": "PLN"}

_TRANSLIT = str.maketrans({"ł": "l", "Ł": "L", "ß": "ss", "đ": "d", "Đ": "D"})


def strip_diacritics(text: str) -> str:
    """``Dvořáková`` → ``Dvorakova``; ``Łódź`` → ``Lodz``."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_TRANSLIT))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


@dataclass(frozen=True)
class Vocab:
    """A sampled vocabulary: values with diacritics, their ASCII forms and popularity weights."""

    values: np.ndarray
    ascii: np.ndarray
    weights: np.ndarray

    @classmethod
    def of(cls, values: list[str], salt: int, zipf: float = 0.9) -> Vocab:
        vals = obj(values)
        asc = obj([strip_diacritics(v) for v in values])
        # Fixed (seed-independent) popularity ranking so vocabularies are stable data.
        perm = np.random.default_rng(salt).permutation(len(values))
        w = np.empty(len(values))
        w[perm] = 1.0 / (np.arange(len(values)) + 3.0) ** zipf
        return cls(vals, asc, w / w.sum())


def _cz_female(last: str) -> str:
    """Czech/Slovak female surname from the male form (Novák → Nováková, Černý → Černá)."""
    if last.endswith(("ý", "í")):
        return last[:-1] + "á"
    if last.endswith("ek") and len(last) > 3:
        return last[:-2] + "ková"
    if last.endswith("ec") and len(last) > 3:
        return last[:-2] + "cová"
    if last.endswith(("a", "o", "e")):
        return last[:-1] + "ová"
    return last + "ová"


def _pl_female(last: str) -> str:
    """Polish female surname (Kowalski → Kowalska, Nowak → Nowak)."""
    if last.endswith("ski") or last.endswith("cki") or last.endswith("dzki"):
        return last[:-1] + "a"
    return last


@dataclass(frozen=True)
class CountryNames:
    """Name and address vocabularies for one country."""

    first_m: Vocab
    first_f: Vocab
    last_m: Vocab
    last_f: Vocab  # aligned with last_m: same index = same family name
    streets: Vocab
    cities: Vocab


@cache
def country_names(country: str) -> CountryNames:
    """Vocabularies for ``CZ``, ``SK`` or ``PL`` (cached; pure data)."""
    if country == "CZ":
        p = person_cz.Provider
        males = list(dict.fromkeys(p.last_names_male))
        last_f = [_cz_female(x) for x in males]
        first_m, first_f = list(p.first_names_male), list(p.first_names_female)
        streets, cities = list(addr_cz.Provider.streets), list(addr_cz.Provider.cities)
    elif country == "SK":
        p = person_sk.Provider
        males = list(dict.fromkeys(p.last_names_male))
        last_f = [_cz_female(x) for x in males]
        first_m, first_f = list(p.first_names_male), list(p.first_names_female)
        streets, cities = list(addr_sk.Provider.streets), list(addr_sk.Provider.cities)
    elif country == "PL":
        p = person_pl.Provider
        males = list(dict.fromkeys(list(p.male_last_names) + list(p.unisex_last_names[:800])))
        last_f = [_pl_female(x) for x in males]
        first_m, first_f = list(p.first_names_male), list(p.first_names_female)
        a = addr_pl.Provider
        streets = list(dict.fromkeys(list(a.streets) + list(a.streets_universal)))
        cities = list(a.cities)
    else:  # pragma: no cover - internal misuse
        raise ValueError(country)
    salt = {"CZ": 1, "SK": 2, "PL": 3}[country]
    lm = Vocab.of(males, salt * 10 + 3)
    lf = Vocab(obj(last_f), obj([strip_diacritics(x) for x in last_f]), lm.weights)
    return CountryNames(
        first_m=Vocab.of(first_m, salt * 10 + 1, zipf=1.0),
        first_f=Vocab.of(first_f, salt * 10 + 2, zipf=1.0),
        last_m=lm,
        last_f=lf,
        streets=Vocab.of(streets, salt * 10 + 4, zipf=0.5),
        cities=Vocab.of(cities, salt * 10 + 5, zipf=1.1),
    )


COUNTRY_TEXT = {
    # Free-text country as people and integrations type it.
    "CZ": (
        ("Czech Republic", 0.3),
        ("CZ", 0.25),
        ("Česko", 0.1),
        ("Czechia", 0.1),
        ("Česká republika", 0.15),
        ("cz", 0.05),
        ("Ceska republika", 0.05),
    ),
    "SK": (("Slovakia", 0.35), ("SK", 0.3), ("Slovensko", 0.25), ("Slovak Republic", 0.1)),
    "PL": (("Poland", 0.35), ("PL", 0.3), ("Polska", 0.3), ("pl", 0.05)),
}

PERSONAL_DOMAINS = {
    "CZ": (
        ("seznam.cz", 0.34),
        ("gmail.com", 0.3),
        ("email.cz", 0.1),
        ("centrum.cz", 0.08),
        ("post.cz", 0.04),
        ("atlas.cz", 0.03),
        ("outlook.com", 0.05),
        ("icloud.com", 0.03),
        ("volny.cz", 0.03),
    ),
    "SK": (
        ("gmail.com", 0.38),
        ("azet.sk", 0.2),
        ("zoznam.sk", 0.12),
        ("centrum.sk", 0.08),
        ("post.sk", 0.05),
        ("outlook.com", 0.1),
        ("yahoo.com", 0.04),
        ("icloud.com", 0.03),
    ),
    "PL": (
        ("gmail.com", 0.35),
        ("wp.pl", 0.18),
        ("onet.pl", 0.14),
        ("o2.pl", 0.1),
        ("interia.pl", 0.1),
        ("outlook.com", 0.07),
        ("yahoo.com", 0.03),
        ("icloud.com", 0.03),
    ),
}

DOMAIN_TYPOS = {
    "gmail.com": ("gmial.com", "gmail.cz", "gmai.com", "gnail.com", "gmail.con"),
    "seznam.cz": ("seznam.com", "sezam.cz", "seznma.cz", "seznam.cy"),
    "email.cz": ("emial.cz", "email.com"),
    "centrum.cz": ("cetrum.cz", "centrum.com"),
    "wp.pl": ("wp.com", "wpp.pl"),
    "onet.pl": ("onet.com", "onte.pl"),
    "azet.sk": ("azet.cz", "aset.sk"),
    "outlook.com": ("outlok.com", "outlook.cz"),
}

JUNK_EMAILS = (
    "test@test.com",
    "noemail@",
    "x@x.cz",
    "a@a.cz",
    "none@none.com",
    "no@email.com",
    "info@info.cz",
    "nemam@email.cz",
)
JUNK_EMAIL_VARIANTS = (
    "test@tset.com",
    "tets@test.com",
    "test@test.cz",
    "test@test.com ",
    "TEST@TEST.COM",
    "noemail@noemail.cz",
    "noemail",
    "x@x.com",
    "xx@x.cz",
    "a@a.com",
    "none@none.cz",
    "no@emial.com",
    "test@tes.com",
)
JUNK_PHONES = ("000000000", "123456789", "+420 000 000 000", "111111111", "999999999")
JUNK_PHONE_VARIANTS = (
    "0000000000",
    "000 000 000",
    "+420000000000",
    "00000000",
    "12345678",
    "+421 000 000 000",
    "+48 000 000 000",
    "0",
)

MOBILE_PREFIXES = {
    "CZ": (
        601,
        602,
        603,
        604,
        605,
        606,
        607,
        608,
        702,
        720,
        721,
        722,
        723,
        724,
        725,
        728,
        730,
        731,
        732,
        733,
        734,
        736,
        737,
        739,
        773,
        774,
        775,
        776,
        777,
        778,
        790,
    ),
    "SK": (
        901,
        902,
        903,
        904,
        905,
        906,
        907,
        908,
        910,
        911,
        912,
        914,
        915,
        916,
        917,
        918,
        940,
        944,
        948,
        949,
        950,
        951,
    ),
    "PL": (
        500,
        501,
        502,
        503,
        504,
        505,
        506,
        507,
        508,
        509,
        510,
        511,
        512,
        513,
        514,
        515,
        516,
        530,
        531,
        533,
        535,
        600,
        601,
        602,
        603,
        660,
        661,
        662,
        663,
        664,
        665,
        690,
        691,
        692,
        693,
        694,
        695,
        696,
        697,
        698,
        721,
        722,
        723,
        724,
        725,
        782,
        783,
        784,
        785,
        790,
        791,
        880,
        881,
        882,
        883,
        884,
        885,
        886,
        887,
        888,
    ),
}

JOB_TITLES = obj(
    [
        "CEO",
        "CTO",
        "CFO",
        "Jednatel",
        "Ředitel",
        "Obchodní ředitel",
        "Marketing Manager",
        "Nákupčí",
        "Head of Purchasing",
        "Office Manager",
        "IT Manager",
        "Vedoucí nákupu",
        "Product Manager",
        "Key Account Manager",
        "Prezes Zarządu",
        "Kierownik zakupów",
        "Konateľ",
        "Riaditeľ",
        "Owner",
        "Procurement Specialist",
        "Head of E-commerce",
        "COO",
    ]
)

INDUSTRIES = obj(
    [
        "RETAIL",
        "WHOLESALE",
        "COMPUTER_SOFTWARE",
        "CONSTRUCTION",
        "AUTOMOTIVE",
        "FOOD_BEVERAGES",
        "HOSPITALITY",
        "HEALTH_WELLNESS_AND_FITNESS",
        "LOGISTICS_AND_SUPPLY_CHAIN",
        "MARKETING_AND_ADVERTISING",
        "MANUFACTURING",
        "EDUCATION_MANAGEMENT",
        "FURNITURE",
        "SPORTING_GOODS",
        "COSMETICS",
    ]
)

COMPANY_WORDS = obj(
    [
        "Tech",
        "Data",
        "Agro",
        "Stav",
        "Metal",
        "Trans",
        "Soft",
        "Plast",
        "Elektro",
        "Bio",
        "Euro",
        "Nova",
        "Prima",
        "Alfa",
        "Delta",
        "Omega",
        "Servis",
        "Trade",
        "Invest",
        "Logistik",
        "Systems",
        "Medical",
        "Food",
        "Print",
        "Inter",
        "Morava",
        "Tatra",
        "Vistula",
        "Labe",
        "Beskyd",
        "Polar",
        "Green",
        "Smart",
        "Net",
        "Max",
        "Pro",
        "Eko",
        "Auto",
        "Dom",
        "Kom",
    ]
)
COMPANY_SUFFIX = {
    "CZ": obj(["s.r.o.", "a.s.", "spol. s r.o.", "v.o.s."]),
    "SK": obj(["s.r.o.", "a.s.", "spol. s r.o."]),
    "PL": obj(["Sp. z o.o.", "S.A.", "Sp.j.", "Sp.k."]),
}
COUNTRY_TLD = {"CZ": ".cz", "SK": ".sk", "PL": ".pl"}

CATEGORIES = (
    ("Elektronika", ("Mobilní telefony", "Notebooky", "Sluchátka", "Televize", "Fotoaparáty")),
    ("Domácnost", ("Kuchyně", "Úklid", "Textil", "Osvětlení")),
    ("Zahrada", ("Nářadí", "Grily", "Bazény")),
    ("Sport", ("Cyklistika", "Běh", "Fitness", "Outdoor")),
    ("Hračky", ("Stavebnice", "Panenky", "Společenské hry")),
    ("Kosmetika", ("Pleťová péče", "Parfémy", "Vlasy")),
    ("Móda", ("Dámské oblečení", "Pánské oblečení", "Obuv", "Doplňky")),
    ("Knihy", ("Beletrie", "Dětské knihy", "Odborné")),
    ("Zdraví", ("Vitamíny", "Zdravotní pomůcky")),
    ("Chovatelské potřeby", ("Psi", "Kočky")),
)

PRODUCT_NOUNS = obj(
    [
        "Kávovar",
        "Mixér",
        "Vysavač",
        "Sluchátka",
        "Batoh",
        "Stan",
        "Kolo",
        "Helma",
        "Tričko",
        "Mikina",
        "Bunda",
        "Boty",
        "Lampa",
        "Hrnec",
        "Pánev",
        "Nůž",
        "Stavebnice",
        "Puzzle",
        "Krém",
        "Šampon",
        "Parfém",
        "Kniha",
        "Hodinky",
        "Reproduktor",
        "Powerbanka",
        "Klávesnice",
        "Myš",
        "Monitor",
        "Gril",
        "Sekačka",
        "Vrtačka",
        "Polštář",
        "Deka",
        "Ručník",
        "Láhev",
    ]
)
PRODUCT_BRANDS = obj(
    [
        "Mirek",
        "Taurus",
        "Bohemia",
        "Vltava",
        "Krakonoš",
        "Tatra",
        "Karpaty",
        "Wawel",
        "Zefir",
        "Orlík",
        "Sokol",
        "Nordic",
        "Lumo",
        "Aqua",
        "Forte",
        "Nova",
        "Pixel",
        "Kaira",
        "Breeze",
        "Granit",
    ]
)

TICKET_SUBJECTS = obj(
    [
        "Kde je moje objednávka?",
        "Reklamace zboží",
        "Vrácení peněz",
        "Změna doručovací adresy",
        "Poškozená zásilka",
        "Dotaz k produktu",
        "Problém s platbou",
        "Zrušení objednávky",
        "Faktura na firmu",
        "Výměna velikosti",
        "Gdzie jest moja paczka?",
        "Reklamácia tovaru",
        "Nefunguje přihlášení",
        "Slevový kód nefunguje",
        "Chybějící položka",
    ]
)
TICKET_TAGS = obj(
    [
        "delivery",
        "refund",
        "complaint",
        "payment",
        "product_question",
        "invoice",
        "vip",
        "b2b",
        "return",
        "login",
        "discount",
        "damaged",
        "urgent",
    ]
)
