"""Forms of the staff integrations page: an API token, a webhook endpoint."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import SelectField, SelectMultipleField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length
from wtforms.widgets import CheckboxInput, ListWidget

from membership.services.integrations.api_tokens import SCOPES
from membership.services.integrations.endpoints import EVENT_TYPES


class CheckboxesField(SelectMultipleField):  # type: ignore[misc]
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class ApiTokenForm(FlaskForm):  # type: ignore[misc]
    name = StringField("Name (what uses it)", validators=[DataRequired(), Length(max=80)])
    scopes = CheckboxesField(
        "May read",
        choices=[SelectChoice(scope, f"{scope}: {words}") for scope, words in SCOPES.items()],
        validators=[DataRequired("Choose at least one scope.")],
    )
    expires = SelectField(
        "Expires",
        choices=[
            SelectChoice("90d", "in 90 days"),
            SelectChoice("30d", "in 30 days"),
            SelectChoice("365d", "in a year"),
            SelectChoice("", "never"),
        ],
        default="90d",
    )


class WebhookEndpointForm(FlaskForm):  # type: ignore[misc]
    url = StringField("URL (HTTPS)", validators=[DataRequired(), Length(max=2000)])
    events = CheckboxesField(
        "Events",
        choices=[SelectChoice(name, f"{name}: {words}") for name, words in EVENT_TYPES.items()],
        validators=[DataRequired("Choose at least one event.")],
    )
    description = StringField("Description", validators=[Length(max=200)])
