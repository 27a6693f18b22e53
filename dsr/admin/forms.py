"""Forms of the admin's pages."""

from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length

from dsr.text import printable


class PolicyForm(FlaskForm):
    """A draft of the privacy policy."""

    text = TextAreaField(
        "The policy's text", validators=[DataRequired("Write the policy's text."),
                                         Length(max=200_000), printable],
        description="Markdown: a blank line between paragraphs, # for a heading, - for a "
                    "list item.")
    summary = TextAreaField(
        "What changes", validators=[DataRequired("Say what changes: the e-mail quotes it."),
                                    Length(max=4000), printable],
        description="A few lines for customers: the e-mail to every customer quotes them.")
    effective_on = DateField(
        "Takes effect on", validators=[InputRequired("Give the day it takes effect.")],
        description="Today or later; customers are e-mailed when you publish.")


class PublishForm(FlaskForm):
    """Publishing a draft, which e-mails every customer."""

    confirm = BooleanField(
        "I have read the preview: publish this version and e-mail every customer",
        validators=[DataRequired("Tick the box to confirm: publishing e-mails every "
                                 "customer and cannot be undone.")])
