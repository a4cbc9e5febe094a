"""The form of a lifecycle kind's staff page: its switch and its copy."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, StringField, TextAreaField
from wtforms.validators import Length


class LifecycleForm(FlaskForm):  # type: ignore[misc]
    enabled = BooleanField("On: send this email")
    subject = StringField(
        "Subject line",
        validators=[Length(max=300, message="Keep the subject under 300 characters.")],
    )
    body = TextAreaField(
        "Body, in Markdown",
        validators=[Length(max=20_000, message="Keep the body under 20,000 characters.")],
    )
