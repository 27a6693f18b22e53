"""Forms of legal's disclosure register."""

import ipaddress
import re
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pycountry
from email_validator import EmailNotValidError, validate_email
from flask import current_app
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    DateTimeLocalField,
    EmailField,
    HiddenField,
    MultipleFileField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Email, Length, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from dsr.disclosures import AUTHENTICITY, CHANNELS, DATA_TYPES, DELIVERY, INSTRUMENTS
from dsr.text import printable

_CUSTOMER = re.compile(r"\d{1,18}")
_DOMAIN = re.compile(r"(?=.{4,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}")


def choices(labels: dict[str, str]) -> list[SelectChoice]:
    """A vocabulary as select choices."""
    return [SelectChoice(key, label) for key, label in labels.items()]


KINDS_OF_DATA = [SelectChoice(key, label) for key, (label, _) in DATA_TYPES.items()]


class Checkboxes(SelectMultipleField):
    """Several choices as checkboxes."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def parse_target(line: str) -> dict[str, str]:
    """Read one target as typed: an e-mail address, an IP address, a customer number or a
    domain; raise ValueError with what is wrong."""
    value = line.strip()
    if "@" in value:
        try:
            return {"kind": "email",
                    "value": validate_email(value, check_deliverability=False).normalized}
        except EmailNotValidError as error:
            raise ValueError(f"{value!r} is not a valid e-mail address ({error}).") from None
    try:
        return {"kind": "ip", "value": str(ipaddress.ip_address(value))}
    except ValueError:
        pass
    if _CUSTOMER.fullmatch(value):
        return {"kind": "customer_id", "value": value}
    if _DOMAIN.fullmatch(value.lower()):
        return {"kind": "domain", "value": value.lower()}
    raise ValueError(f"{value!r} is neither an e-mail address, an IP address, a customer "
                     "number nor a domain.")


def _local(moment: datetime | None) -> datetime | None:
    """A time typed in the company's time zone, as UTC."""
    if moment is None:
        return None
    zone = ZoneInfo(current_app.config["TIMEZONE"])
    return moment.replace(tzinfo=zone).astimezone(UTC)


class IntakeForm(FlaskForm):
    """A disclosure request as it arrived."""

    received_at = DateTimeLocalField(
        "Received at", format="%Y-%m-%dT%H:%M",
        validators=[DataRequired(message="Enter when the request arrived.")])
    channel = SelectField("Channel", choices=choices(CHANNELS))
    authority = StringField("Requesting authority", validators=[
        DataRequired(message="Name the authority."), Length(max=200), printable])
    officer = StringField("Officer", validators=[Optional(), Length(max=200), printable])
    contact = StringField("Officer's contact", validators=[Optional(), Length(max=200),
                                                          printable])
    country = SelectField("Country", choices=[
        SelectChoice(c.alpha_2, c.name)
        for c in sorted(pycountry.countries, key=lambda c: c.name)], default="DE")
    authenticity_check = TextAreaField(
        "How the request's authenticity was checked",
        description="For example: called back the court's switchboard on its published number.",
        validators=[DataRequired(message="Say how authenticity was checked."),
                    Length(max=2000), printable])
    authenticity_result = SelectField("Result of the check", choices=choices(AUTHENTICITY))
    instrument = SelectField("Instrument", choices=choices(INSTRUMENTS))
    citation = StringField("Citation", description="The order's reference and legal basis.",
                           validators=[DataRequired(message="Cite the instrument."),
                                       Length(max=300), printable])
    emergency = BooleanField("Emergency request (answer within 8 hours)")
    targets = TextAreaField(
        "Targets", description="One per line: customer number, e-mail address, IP address or "
                               "domain.",
        validators=[DataRequired(message="Name at least one target."), Length(max=4000)])
    range_from = DateField("Time range from", validators=[Optional()])
    range_to = DateField("Time range to", validators=[Optional()])
    data_types = Checkboxes("Data requested", choices=KINDS_OF_DATA,
                            validators=[DataRequired(message="Choose what was requested.")])
    deadline = DateTimeLocalField(
        "Deadline, if the request states one", format="%Y-%m-%dT%H:%M",
        description="Otherwise 10 days, or 8 hours for an emergency.", validators=[Optional()])
    notify_email = EmailField(
        "Where the subject is told", description="Optional: by default, the e-mail address of "
                                                 "the account the package concerns.",
        validators=[Optional(), Email(message="That is not an e-mail address."),
                    Length(max=254)])
    documents = MultipleFileField("Documents (PDF, PNG or JPEG)")

    def validate_targets(self, field: Any) -> None:
        errors = []
        for line in (field.data or "").splitlines():
            if line.strip():
                try:
                    parse_target(line)
                except ValueError as error:
                    errors.append(str(error))
        if errors:
            raise ValidationError(" ".join(errors))

    def validate_received_at(self, field: Any) -> None:
        arrived = _local(field.data)
        if arrived is not None and arrived > datetime.now(UTC) + timedelta(minutes=5):
            raise ValidationError("The request cannot have arrived in the future.")

    def validate_deadline(self, field: Any) -> None:
        if field.data and self.received_at.data and field.data <= self.received_at.data:
            raise ValidationError("The deadline must come after the request arrived.")

    def validate_range_to(self, field: Any) -> None:
        if field.data and self.range_from.data and field.data < self.range_from.data:
            raise ValidationError("The range ends before it starts.")

    def parsed_targets(self) -> list[dict[str, str]]:
        """The targets, each with its kind, without repeats."""
        seen: list[dict[str, str]] = []
        for line in (self.targets.data or "").splitlines():
            if line.strip() and (target := parse_target(line)) not in seen:
                seen.append(target)
        return seen

    def received_utc(self) -> datetime:
        return _local(self.received_at.data) or datetime.now(UTC)

    def deadline_utc(self) -> datetime | None:
        return _local(self.deadline.data)


class ApproveForm(FlaskForm):
    """Approve a disclosure, possibly narrowed: fewer targets or kinds of data, a shorter
    range, with the reason."""

    targets = Checkboxes("Targets approved")
    data_types = Checkboxes("Data approved", choices=KINDS_OF_DATA)
    range_from = DateField("From", validators=[Optional()])
    range_to = DateField("To", validators=[Optional()])
    narrowing_reason = TextAreaField("Why narrower than asked (if it is)", validators=[
        Optional(), Length(max=2000), printable])
    version = HiddenField()


class ActionForm(FlaskForm):
    """One transition of the record, with the data it takes."""

    trigger = StringField(validators=[DataRequired(), Length(max=64)])
    version = StringField(validators=[DataRequired(), Length(max=12)])
    reason = TextAreaField("Reason", validators=[Optional(), Length(max=4000), printable])
    delivery = SelectField("Delivered by", choices=[SelectChoice("", "Choose…"),
                                                    *choices(DELIVERY)],
                           validate_choice=False)
    until = DateField("Gag order until", validators=[Optional()])
