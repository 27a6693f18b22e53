"""Forms of the staff console."""

from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

REASON_MAX = 4000


class TransitionForm(FlaskForm):
    """Fire one trigger of a request's workflow, with a reason where the trigger takes one."""

    trigger = HiddenField(validators=[DataRequired(), Length(max=64)])
    reason = TextAreaField("Reason", validators=[Optional(), Length(max=REASON_MAX)])


class QueueFilterForm(FlaskForm):
    """Narrow the queue by type and state (GET, so no CSRF token)."""

    class Meta:
        csrf = False

    type = SelectField("Type", choices=[("", "All types")], default="")
    state = SelectField("State", choices=[("", "All states")], default="")
    due = SelectField(
        "Due",
        choices=[("", "Any time"), ("soon", "Due within 7 days"), ("overdue", "Overdue")],
        default="",
    )
