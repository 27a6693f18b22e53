"""Forms of the sign-in pages."""

from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, StringField
from wtforms.validators import DataRequired, Email, Length


class SignInForm(FlaskForm):
    """Staff sign-in with e-mail address and password."""

    email = EmailField(
        "E-mail address",
        filters=[lambda value: value.strip() if value else value],
        validators=[DataRequired(), Email(), Length(max=254)],
    )
    password = PasswordField("Password", validators=[DataRequired(), Length(max=1024)])


def _code(description: str) -> StringField:
    return StringField("Code", filters=[lambda value: value.strip() if value else value],
                       description=description,
                       validators=[DataRequired(message="Enter the code."), Length(max=32)])


class CodeForm(FlaskForm):
    """The second step: a code from the authenticator app, or a recovery code."""

    code = _code("The six digits your authenticator app shows now, or one of your recovery "
                 "codes.")


class SetUpForm(FlaskForm):
    """Setting the second step up: the first code the app shows."""

    code = _code("The six digits your authenticator app shows now for dsr.")
