"""Forms of the sign-in pages."""

from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, Email, Length


class SignInForm(FlaskForm):
    """Staff sign-in with e-mail address and password."""

    email = EmailField(
        "E-mail address",
        filters=[lambda value: value.strip() if value else value],
        validators=[DataRequired(), Email(), Length(max=254)],
    )
    password = PasswordField("Password", validators=[DataRequired(), Length(max=1024)])
