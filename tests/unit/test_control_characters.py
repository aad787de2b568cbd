"""The one rule for a line of donor text: no control characters (issue 12, finding 10)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from chalicelib.compliance.best_efforts import read_answer
from chalicelib.errors import InvalidInput
from chalicelib.followups.input import ProposalRequest, SignupRequest, WalkInRequest
from chalicelib.giving.model import control_character


@pytest.mark.parametrize("text", ["\x00", "\t", "\r", "\n", "\x1b", "\x7f", "\x85", "\u2028", "\u2029",
                                  "\u202e", "\u2066", "\ud800"])
def test_controls_are_found_anywhere(text: str) -> None:
    assert control_character(f"Ana{text}Rivera") == text


@pytest.mark.parametrize("text", ["José Núñez", "O'Brien-Smith", "Zoë\u200d", "محمد", "李小龍",
                                  "नमस्\u200dते", "Ana  Rivera"])
def test_real_names_are_text(text: str) -> None:
    assert control_character(text) is None


def test_the_signup_walk_in_and_best_efforts_forms_refuse_them() -> None:
    with pytest.raises(ValidationError):
        SignupRequest.model_validate({"email": "sam@example.org", "first_name": "Sam\x00"})
    with pytest.raises(ValidationError) as walk_in:
        WalkInRequest.model_validate({"email": "sam@example.org", "first_name": "Sam",
                                      "last_name": "Lee\u202e", "zip": "62701"})
    assert [e["loc"] for e in walk_in.value.errors()] == [("last_name",)]
    with pytest.raises(InvalidInput) as caught:
        read_answer({"employer": "Acme\r\nInc", "occupation": "Clerk\u202e"})
    assert set(caught.value.fields) == {"employer", "occupation"}
    assert read_answer({"employer": "Acme\n", "occupation": "Clerk"}) == ("Acme", "Clerk")


def test_a_hosting_proposal_keeps_its_paragraphs_and_nothing_else() -> None:
    text = "Door-knocking on Elm St.\r\n\r\nBring water."
    assert ProposalRequest.model_validate({"title": "Canvass", "description": text}).description == text
    for bad in ({"title": "Canvass\r\nnow", "description": ""},
                {"title": "Canvass", "description": "Bring water.\x1b[2J"},
                {"title": "Canvass", "description": "Bring\u202e water"}):
        with pytest.raises(ValidationError):
            ProposalRequest.model_validate(bad)
