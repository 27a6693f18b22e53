"""Forms of the staff console."""

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    Field,
    HiddenField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError

from dsr.models.collection import GROUNDS
from dsr.text import printable

REASON_MAX = 4000


class TransitionForm(FlaskForm):
    """Fire one trigger of a request's workflow, with a reason where the trigger takes one."""

    trigger = HiddenField(validators=[DataRequired(), Length(max=64)])
    version = HiddenField(validators=[InputRequired()])
    reason = TextAreaField("Reason", validators=[Optional(), Length(max=REASON_MAX), printable])


class NoteForm(FlaskForm):
    """A note on a request, for colleagues."""

    text = TextAreaField("Add a note", validators=[DataRequired(message="Write the note first."),
                                                   Length(max=REASON_MAX), printable])


class QueueFilterForm(FlaskForm):
    """Narrow the queue by type and state (GET, so no CSRF token)."""

    class Meta:
        csrf = False

    type = SelectField("Type", default="")
    state = SelectField("State", default="")
    due = SelectField(
        "Due",
        choices=[
            SelectChoice("", "Any time"),
            SelectChoice("soon", "Due within 7 days"),
            SelectChoice("overdue", "Overdue"),
        ],
        default="",
    )

    def offer(self, types: list[str], states: list[str]) -> None:
        """Fill the type and state choices from the workflows."""
        self.type.choices = [SelectChoice("", "All types")] + [
            SelectChoice(t, t.capitalize()) for t in types
        ]
        self.state.choices = [SelectChoice("", "All states")] + [
            SelectChoice(s, s.replace("_", " ")) for s in states
        ]


class DecisionForm(FlaskForm):
    """Staff's decision on one proposed change: the records to correct, or a reason to refuse."""

    targets = SelectMultipleField(coerce=int, validate_choice=False)
    elsewhere = BooleanField("Somewhere else (a task done by hand)")
    reason = TextAreaField("Reason", validators=[Optional(), Length(max=REASON_MAX), printable])


class TaskForm(FlaskForm):
    """Tick off a manual correction task, saying what was done."""

    note = TextAreaField("What you did", validators=[
        DataRequired(message="Say what you did, for the record."), Length(max=REASON_MAX),
        printable])


class WithholdForm(FlaskForm):
    """Withhold one finding from the answer, whole or a passage of it, on a ground the answer
    gives (its fields are prefixed with the finding, so that each row's labels are its own)."""

    ground = SelectField("Ground", choices=[SelectChoice("", "Choose a ground")] + [
        SelectChoice(key, ground.label) for key, ground in GROUNDS.items()],
        validators=[DataRequired(message="Choose the ground it is withheld on.")])
    passage = TextAreaField(
        "Passage to hide", description="Copy it exactly as shown; leave empty to withhold the "
        "whole item.", validators=[Optional(), Length(max=REASON_MAX), printable],
        filters=[lambda text: text.replace("\r\n", "\n").strip() if text else text])
    note = TextAreaField(
        "Note", description="For colleagues; for \"other\", the reason the subject reads.",
        validators=[Length(max=REASON_MAX), printable])  # not Optional: it would skip the next

    def validate_note(self, field: Field) -> None:
        """Require a note for the ground "other": it is the only reason the subject is given."""
        if self.ground.data == "other" and not (field.data or "").strip():
            raise ValidationError("Say in the note why it is withheld: for \"other\", the "
                                  "subject reads it as the reason.")
