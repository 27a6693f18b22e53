"""Proposed values are checked by the library that knows them, with a message per field."""

import pytest

from dsr.categories import Category
from dsr.corrections.values import InvalidValue, normalise


@pytest.mark.parametrize(
    ("category", "typed", "stored"),
    [
        (Category.EMAIL, " Ana.Lima@Example.COM ", "Ana.Lima@example.com"),
        (Category.PHONE, "030 1234567", "+49 30 1234567"),
        (Category.PHONE, "+31 20 555 1234", "+31 20 555 1234"),
        (Category.BANK_DETAILS, "de89370400440532013000", "DE89 3704 0044 0532 0130 00"),
        (Category.ID_DETAILS, "DE 136 695 976", "DE136695976"),
        (Category.NAME, "  Ana   Lima ", "Ana Lima"),
        (Category.ADDRESS, "1 Main Street", "1 Main Street"),
        (Category.COMPANY, "Lima & Partners", "Lima & Partners"),
    ],
)
def test_a_right_value_is_returned_as_sources_store_it(
    category: Category, typed: str, stored: str
) -> None:
    assert normalise(category, typed) == stored


@pytest.mark.parametrize(
    ("category", "typed", "message"),
    [
        (Category.EMAIL, "ana.lima@", "That is not a valid e-mail address"),
        (Category.PHONE, "call me", "That is not a telephone number"),
        (Category.PHONE, "+49 30 12", "That telephone number does not exist"),
        (Category.BANK_DETAILS, "DE89370400440532013001", "That is not a valid IBAN"),
        (Category.ID_DETAILS, "DE123456789", "That is not a valid EU VAT number"),
        (Category.NAME, "   ", "Enter the correct value."),
        (Category.NAME, "Ana\x00", "ordinary characters"),
        (Category.ADDRESS, "x" * 201, "at most 200"),
        (Category.IP, "192.0.2.1", "IP address cannot be corrected"),
        (Category.VISIT, "no visit", "Website visits cannot be corrected"),
    ],
)
def test_a_wrong_value_is_refused_with_a_message(
    category: Category, typed: str, message: str
) -> None:
    with pytest.raises(InvalidValue, match=message):
        normalise(category, typed)


def test_the_api_offers_exactly_the_categories_that_can_be_corrected() -> None:
    from typing import get_args

    from dsr.api.schemas import Correctable
    from dsr.corrections.values import CORRECTABLE

    assert list(get_args(Correctable)) == [c.value for c in CORRECTABLE]
