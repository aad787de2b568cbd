"""FEC text: ASCII transliteration that never drops a name, trimmed to the FEC's lengths."""

from __future__ import annotations

import re

import pytest

from chalicelib.filing import text as t

PRINTABLE = re.compile(r"^[ -~]*$")


@pytest.mark.parametrize(("raw", "ascii"), [
    ("José Núñez", "Jose Nunez"),
    ("Zoë Ørsted", "Zoe Orsted"),
    ("Straße", "Strasse"),
    ("Łukasz Żółć", "Lukasz Zolc"),
    ("Nguyễn Thị Minh Khai", "Nguyen Thi Minh Khai"),
    ("O\u2019Brien", "O'Brien"),
    ("Дмитрий", "Dmitriy"),
    ("  two   spaces\tand\ttabs ", "two spaces and tabs"),
    ("line\nbreak", "line break"),
])
def test_transliteration(raw: str, ascii: str) -> None:
    assert t.ascii_text(raw) == ascii


@pytest.mark.parametrize("name", ["王芳", "Ελένη", "محمد", "\U000f0000"])
def test_a_name_is_never_dropped(name: str) -> None:
    text = t.ascii_text(name)
    assert text and PRINTABLE.match(text)


def test_missing_text_stays_empty() -> None:
    assert t.ascii_text(None) == "" and t.ascii_text("") == ""


def test_fit_trims_to_the_length_without_a_trailing_space() -> None:
    assert t.fit("Wolfeschlegelsteinhausenbergerdorff", t.LAST_NAME) == "Wolfeschlegelsteinhausenberger"
    assert len(t.last_name("Ñ" * 50)) == 30
    assert t.fit("abcdefghi jklmnop", 10) == "abcdefghi"


def test_a_long_first_name_keeps_its_first_words_and_moves_the_rest_to_middle() -> None:
    assert t.first_and_middle("Maria Guadalupe Fernanda") == ("Maria Guadalupe", "Fernanda")
    assert t.first_and_middle("Ana") == ("Ana", None)
    first, middle = t.first_and_middle("Bartholomew-Alexander-Maximilian")
    assert first == "Bartholomew-Alexande" and middle == "r-Maximilian"
    first, middle = t.first_and_middle("A" * 25 + " " + "B" * 30)
    assert len(first) <= 20 and middle is not None and len(middle) <= 20


def test_the_apartment_line_is_street_two_and_a_long_street_carries_over() -> None:
    assert t.streets("1 Main St", "Apt 4B") == ("1 Main St", "Apt 4B")
    assert t.streets("1 Main St", None) == ("1 Main St", None)
    first, second = t.streets("12345 North Martin Luther King Junior Boulevard", "Apt 4B")
    assert first == "12345 North Martin Luther King"
    assert second == "Junior Boulevard Apt 4B"
    assert all(len(s) <= t.STREET for s in (first, second))
    first, second = t.streets("Calle " + "x" * 60, "Piso 3")
    assert len(first) <= 34 and second is not None and len(second) <= 34


def test_zip_codes_keep_nine_digits() -> None:
    assert t.zip_code("627011234") == "627011234"
    assert t.zip_code("62701-1234") == "627011234"
    assert t.zip_code("62701") == "62701"


def test_missing_employer_or_occupation_reads_information_requested() -> None:
    assert t.employer_or_occupation(None, t.EMPLOYER) == "INFORMATION REQUESTED"
    assert t.employer_or_occupation("  ", t.EMPLOYER) == "INFORMATION REQUESTED"
    assert t.employer_or_occupation("Café Société Générale de Très Longue Entreprise", 38) == \
        "Cafe Societe Generale de Tres Longue E"


@pytest.mark.parametrize("placeholder", ["N/A", "none", "Self", "J.S.", "information requested"])
def test_a_placeholder_reads_information_requested_never_itself(placeholder: str) -> None:
    assert t.employer_or_occupation(placeholder, t.EMPLOYER) == "INFORMATION REQUESTED"
    assert t.employer_or_occupation("IBM", t.EMPLOYER) == "IBM"
