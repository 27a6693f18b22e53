"""Proposed values, checked with the library that knows each kind of value, and returned in
the form sources store them; a wrong value gets a message that says what to fix."""

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from schwifty import IBAN
from schwifty.exceptions import SchwiftyException
from stdnum.eu import vat
from stdnum.exceptions import ValidationError as StdnumError

from dsr.categories import Category
from dsr.text import has_control_characters

MAX_LENGTH = 200
CORRECTABLE = (Category.NAME, Category.ADDRESS, Category.EMAIL, Category.PHONE,
               Category.COMPANY, Category.ID_DETAILS, Category.BANK_DETAILS)


class InvalidValue(ValueError):
    """A proposed value that cannot be right; the message is shown next to the field."""


def normalise(category: Category, value: str, *, country: str = "DE") -> str:
    """Check `value` as a new `category` value; return it as sources should store it.

    `country` is where a telephone number without a +code is assumed to be.
    """
    value = " ".join(value.split())
    if not value:
        raise InvalidValue("Enter the correct value.")
    if has_control_characters(value) or len(value) > MAX_LENGTH:
        raise InvalidValue(f"Use at most {MAX_LENGTH} ordinary characters.")
    if category == Category.EMAIL:
        try:
            return validate_email(value, check_deliverability=False).normalized
        except EmailNotValidError as error:
            raise InvalidValue(f"That is not a valid e-mail address: {error}") from None
    if category == Category.PHONE:
        try:
            number = phonenumbers.parse(value, country)
        except phonenumbers.NumberParseException:
            raise InvalidValue("That is not a telephone number; start with + and the "
                               "country code, for example +49 30 1234567.") from None
        if not phonenumbers.is_valid_number(number):
            raise InvalidValue("That telephone number does not exist; check its digits and "
                               "country code.")
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    if category == Category.BANK_DETAILS:
        try:
            return IBAN(value).formatted
        except SchwiftyException as error:
            raise InvalidValue(f"That is not a valid IBAN: {error}") from None
    if category == Category.ID_DETAILS:
        try:
            return str(vat.validate(value))
        except StdnumError:
            raise InvalidValue("That is not a valid EU VAT number (for example "
                               "DE136695976).") from None
    if category in CORRECTABLE:
        return value
    raise InvalidValue(f"{category.label} cannot be corrected: it is a record of what happened.")


def same_value(category: Category, held: str, written: str, *, country: str = "DE") -> bool:
    """Tell whether a value read back from a source is the one written, allowing for the
    source's own formatting (spacing, case of an address, how a number is grouped)."""
    if " ".join(held.split()) == " ".join(written.split()):
        return True
    try:
        return normalise(category, held, country=country) == normalise(
            category, written, country=country)
    except InvalidValue:
        return False
