"""Forms of the public request pages."""

from flask_wtf import FlaskForm
from wtforms import EmailField, RadioField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, Length, Optional

from dsr.text import printable


def _strip(value: str | None) -> str | None:
    return value.strip() if value else value


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
    email = EmailField(
        "Your e-mail address", filters=[_strip],
        validators=[DataRequired(message="Enter the e-mail address you use with us."),
                    Email(message="That does not look like an e-mail address."),
                    Length(max=254), printable],
        description="We send a link to this address to confirm the request is yours.",
    )
    name = StringField("Your name", filters=[_strip],
                       validators=[DataRequired(message="Enter your name."), Length(max=200),
                                   printable])
    message = TextAreaField("Anything we should know? (optional)", filters=[_strip],
                            validators=[Optional(), Length(max=4000), printable])


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
