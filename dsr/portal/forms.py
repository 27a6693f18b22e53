"""Forms of the public request pages."""

import ipaddress
import re
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any

from flask import current_app
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    RadioField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import AnyOf, DataRequired, Email, Length, Optional, ValidationError

from dsr.adapters import ClaimedIp
from dsr.categories import Category
from dsr.corrections import Proposal
from dsr.corrections.values import CORRECTABLE, InvalidValue, normalise
from dsr.text import printable


def _strip(value: str | None) -> str | None:
    return value.strip() if value else value


def requester_email(description: str) -> EmailField:
    """The requester's address: the one on file, where the confirmation link goes."""
    return EmailField(
        "Your e-mail address", filters=[_strip], description=description,
        validators=[DataRequired(message="Enter the e-mail address you use with us."),
                    Email(message="That does not look like an e-mail address."),
                    Length(max=254), printable],
    )


def requester_name() -> StringField:
    """The requester's name."""
    return StringField("Your name", filters=[_strip],
                       validators=[DataRequired(message="Enter your name."), Length(max=200),
                                   printable])


# Matomo's first-party cookie: _pk_id.<site id>.<hash of the domain>, whose value starts
# with the 16 hex digits of the visitor ID, then the time it was made.
PK_ID = re.compile(r"_pk_id\.\d+\.[0-9a-f]+")
VISITOR_ID = re.compile(r"([0-9a-f]{16})\.\d+(\..*)?")


def presented_visitor_ids(cookies: Mapping[str, str]) -> list[str]:
    """The analytics visitor IDs the requester's own browser presented in Matomo's cookies."""
    return sorted({match.group(1) for name, value in cookies.items()
                   if PK_ID.fullmatch(name) and (match := VISITOR_ID.fullmatch(value))})


class VisitDay(DateField):
    """A day of the requester's visits; left empty, nothing."""

    def process_formdata(self, valuelist: list[Any]) -> None:
        if not valuelist or not " ".join(valuelist).strip():
            self.data = None
            return
        try:
            super().process_formdata([" ".join(valuelist).strip()])
        except ValueError:
            self.data = None
            raise ValueError("Write the day as YYYY-MM-DD, for example 2026-05-31.") from None


def _check_day(day: date) -> None:
    """A day of visits the analytics can still hold: not to come, not older than it keeps."""
    today = datetime.now(UTC).date()
    earliest = today - timedelta(days=int(current_app.config["VISITS_KEPT_DAYS"]))
    if day > today:
        raise ValidationError("That day has not come yet.")
    if day < earliest:
        raise ValidationError(f"Our analytics keeps visits for "
                              f"{current_app.config['VISITS_KEPT_DAYS']} days: the earliest "
                              f"day we can search is {earliest.isoformat()}.")


class RequestForm(FlaskForm):
    """A subject's request: what they ask for, and where to reach them."""

    type = RadioField(
        "What would you like?",
        choices=[
            SelectChoice("access", "To know what personal information you hold on me"),
            SelectChoice("correction", "To have inaccurate information about me corrected"),
        ],
        default="access",
        validators=[DataRequired(message="Choose what you would like.")],
    )
    email = requester_email("We send a link to this address to confirm the request is yours.")
    name = requester_name()
    message = TextAreaField("Anything we should know? (optional)", filters=[_strip],
                            validators=[Optional(), Length(max=4000), printable])
    # If you are not a customer: what the website's analytics may know you by.
    visit_ip = StringField(
        "The IP address you visited our websites from (optional)", filters=[_strip],
        validators=[Length(max=45), printable],
        description="We search our analytics by it only for the days you give, and release "
                    "visits from it only if nobody else used it on those days.")
    visits_from = VisitDay("First day of your visits from it")
    visits_to = VisitDay("Last day of your visits from it",
                         description="The same day for a single visit. Days are in UTC.")
    leave_out_visitor_id = BooleanField("Leave this browser's analytics ID out")

    def validate_visit_ip(self, field: Any) -> None:
        """An IP address, written as Python's ipaddress reads it; with days, or none."""
        if not field.data:
            if self.visits_from.data or self.visits_to.data:
                raise ValidationError("Enter the IP address these days are for.")
            return
        try:
            field.data = str(ipaddress.ip_address(field.data))
        except ValueError:
            raise ValidationError("That is not an IP address: write it as 203.0.113.7, or as "
                                  "2001:db8::7 for IPv6.") from None

    def validate_visits_from(self, field: Any) -> None:
        """The first day: needed with an address, and one the analytics can still hold."""
        if field.data is None:
            if self.visit_ip.data and not field.errors:
                raise ValidationError("Enter the first day of your visits from this address.")
            return
        _check_day(field.data)

    def validate_visits_to(self, field: Any) -> None:
        """The last day: needed with an address, not before the first."""
        if field.data is None:
            if self.visit_ip.data and not field.errors:
                raise ValidationError("Enter the last day of your visits from this address "
                                      "(the same day for a single visit).")
            return
        _check_day(field.data)
        if self.visits_from.data and field.data < self.visits_from.data:
            raise ValidationError("The last day is before the first day.")

    def claimed_ips(self) -> list[ClaimedIp]:
        """The address the requester gave with the days of their visits (after validation)."""
        if not (self.visit_ip.data and self.visits_from.data and self.visits_to.data):
            return []
        return [ClaimedIp(self.visit_ip.data, self.visits_from.data, self.visits_to.data)]


class SignInForm(FlaskForm):
    """A subject asks for a sign-in link to the address their request came from."""

    email = EmailField(
        "Your e-mail address", filters=[_strip],
        validators=[DataRequired(message="Enter the e-mail address of your request."),
                    Email(message="That does not look like an e-mail address."),
                    Length(max=254), printable],
    )


class ConfirmForm(FlaskForm):
    """The button behind a verification link (a GET never changes anything: mail scanners
    open links)."""


class ChangeForm(Form):
    """One proposed change: what kind of information, what it should be, and why."""

    category = SelectField(
        "What is wrong",
        choices=[SelectChoice("", "Choose…")] + [SelectChoice(c.value, c.label)
                                                 for c in CORRECTABLE],
        validators=[DataRequired(message="Choose what kind of information is wrong."),
                    AnyOf([c.value for c in CORRECTABLE],
                          message="Choose one of the kinds of information listed.")],
        validate_choice=False,
    )
    # "source: label" of the record the subject pointed at in their report; a hint for staff.
    record = HiddenField(filters=[_strip], validators=[Optional(), Length(max=300), printable])
    current = StringField("What we hold now (optional)", filters=[_strip],
                          validators=[Optional(), Length(max=200), printable])
    proposed = StringField("What it should be", filters=[_strip],
                           validators=[DataRequired(message="Enter the correct value.")])
    why = TextAreaField("Why it is wrong (optional)", filters=[_strip],
                        validators=[Optional(), Length(max=2000), printable])
    note = TextAreaField("Supporting note (optional)", filters=[_strip],
                         validators=[Optional(), Length(max=2000), printable],
                         description="For example, which document shows the correct value.")

    def validate_proposed(self, field: Any) -> None:
        """Check the value with the library for its kind; keep it as sources store it."""
        if self.category.data not in {c.value for c in CORRECTABLE}:
            return  # the category's own message says what to fix
        try:
            field.data = normalise(Category(self.category.data), field.data or "",
                                   country=current_app.config["PHONE_REGION"])
        except InvalidValue as error:
            raise ValidationError(str(error)) from None

    def proposal(self) -> Proposal:
        """The change as corrections takes it (after validation)."""
        return Proposal(Category(self.category.data), self.proposed.data or "",
                        current=self.current.data or "", why=self.why.data or "",
                        note=self.note.data or "", record_hint=self.record.data or "")


class ProposalsForm(FlaskForm):
    """Changes proposed by a signed-in subject, who has already proved their address."""

    # A hard cap on what is read from a post; MAX_CHANGES is the limit told to the subject.
    changes = FieldList(FormField(ChangeForm), min_entries=1, max_entries=50)
    add = SubmitField("Add another change")
    send = SubmitField("Send correction request")

    # The address the subject confirmed, which an e-mail change replaces (set by the view).
    confirmed_email = ""

    def email_in_use(self) -> str:
        """The address an e-mail change would replace."""
        return self.confirmed_email

    def validate_changes(self, field: Any) -> None:
        """At most MAX_CHANGES, and no e-mail change to the address already held."""
        if len(field.entries) > current_app.config["MAX_CHANGES"]:
            raise ValidationError(f"Send at most {current_app.config['MAX_CHANGES']} changes "
                                  "in one request.")
        for entry in field.entries:
            change = entry.form
            if change.category.data == Category.EMAIL.value and change.proposed.data and \
                    change.proposed.data.lower() == self.email_in_use().lower():
                change.proposed.errors = [*change.proposed.errors,
                                          "That is the address we already have."]
                raise ValidationError("Check the changes marked below.")

    def proposals(self) -> list[Proposal]:
        """Every change, as corrections takes them."""
        return [entry.form.proposal() for entry in self.changes.entries]

    def grow(self) -> None:
        """Add an empty change below the others, keeping what was typed."""
        if len(self.changes.entries) < current_app.config["MAX_CHANGES"]:
            self.changes.append_entry()

    def drop_empty(self) -> None:
        """Forget trailing changes left wholly empty (an "Add another" not used)."""
        while len(self.changes.entries) > 1 and not any(
                (f.data or "").strip() for f in self.changes.entries[-1].form):
            self.changes.pop_entry()


class CorrectionForm(ProposalsForm):
    """A correction request from the public page: who asks, and the changes."""

    email = requester_email("The address we have on file: we send the confirmation link "
                            "there, never to a new address you ask us to use.")
    name = requester_name()
    message = TextAreaField("Anything else we should know? (optional)", filters=[_strip],
                            validators=[Optional(), Length(max=4000), printable])

    def email_in_use(self) -> str:
        return self.email.data or ""


class StatementForm(FlaskForm):
    """The subject's supplementary statement on a change we did not make (Art. 16)."""

    change = HiddenField(validators=[DataRequired()])
    statement = TextAreaField(
        "Your statement", filters=[_strip],
        validators=[DataRequired(message="Write your statement first."), Length(max=4000),
                    printable],
        description="We keep it with the information it concerns and take it into account.",
    )
