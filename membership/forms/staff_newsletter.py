"""Forms of the staff's newsletter pages: the list, imports and issues."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    FileField,
    HiddenField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, Optional, ValidationError

from membership.services.newsletter.audiences import AUDIENCES


class SubscriberFilterForm(FlaskForm):  # type: ignore[misc]
    class Meta:
        csrf = False

    q = StringField("Search addresses", validators=[Optional(), Length(max=320)])
    status = SelectField(
        "Status",
        choices=[
            SelectChoice("", "Any status"),
            SelectChoice("pending", "Pending"),
            SelectChoice("confirmed", "Confirmed"),
            SelectChoice("unsubscribed", "Unsubscribed"),
        ],
        default="",
        validate_choice=False,
    )
    source = SelectField(
        "Source", choices=[SelectChoice("", "Any source")], default="", validate_choice=False
    )


class ImportSubscribersForm(FlaskForm):  # type: ignore[misc]
    file = FileField("CSV file with one email address per row")
    basis = TextAreaField(
        "Consent basis: how did these people agree to get the newsletter?",
        validators=[Length(max=1000, message="Keep the consent basis under 1000 characters.")],
    )
    action = HiddenField()

    def validate_file(self, field: FileField) -> None:
        if not field.data or not getattr(field.data, "filename", ""):
            raise ValidationError("Choose a CSV file.")

    def validate_basis(self, field: TextAreaField) -> None:
        if len(" ".join((field.data or "").split())) < 10:
            raise ValidationError(
                "Say on what basis these people agreed, e.g. 'signed up on paper at the 2026 "
                "book fair'."
            )


class IssueForm(FlaskForm):  # type: ignore[misc]
    subject = StringField(
        "Subject line",
        validators=[Length(max=200, message="Keep the subject under 200 characters.")],
    )
    body = TextAreaField(
        "Body, in Markdown",
        validators=[Length(max=200_000, message="That is too long for one email.")],
    )

    def validate_subject(self, field: StringField) -> None:
        if not " ".join((field.data or "").split()):
            raise ValidationError("Give the issue a subject line.")


AUDIENCE_CHOICES = [SelectChoice(a.name, a.label) for a in AUDIENCES.values()]


class SendIssueForm(FlaskForm):  # type: ignore[misc]
    audience = SelectField("Audience", choices=AUDIENCE_CHOICES, default="everyone")
    confirm = BooleanField("Yes, send this issue to this audience now")

    def validate_confirm(self, field: BooleanField) -> None:
        if not field.data:
            raise ValidationError("Tick the box to confirm you want to send it to everyone.")


class ScheduleIssueForm(FlaskForm):  # type: ignore[misc]
    audience = SelectField("Audience", choices=AUDIENCE_CHOICES, default="everyone")
    send_at = DateTimeLocalField(
        "Send at (the newsroom's time)",
        format=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"],
        validators=[InputRequired(message="Give a date and time, e.g. 2027-03-01 07:00.")],
    )
