"""The lifecycle kinds: what each one is for, the placeholders its copy may use, its shipped copy
and sample values for the preview. Staff change the copy and switch kinds on and off
(`settings.py`); which supporter gets which kind when is in the jobs."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

COMMON_PLACEHOLDERS = {
    "first_name": "the supporter's first name, or “friend”",
    "publication_name": "the publication's name",
    "account_link": "the supporter's account page",
}


class Conversion(StrEnum):
    """What counts as a kind working, always from confirmed money, never from clicks."""

    NONE = "none"
    RECURRING_GIFT = "recurring gift"  # a monthly or annual payment after the message
    ANY_GIFT = "gift"  # any payment after the message
    INVOICE_PAID = "invoice paid"  # the failed renewal the message was about got paid


@dataclass(frozen=True)
class Kind:
    name: str
    title: str
    when: str  # for staff: who gets it, when
    # Kinds in one group share an unsubscribe link (the dunning steps are one sequence).
    group: str
    placeholders: dict[str, str]
    subject: str
    body: str
    sample: dict[str, str]
    conversion: Conversion = Conversion.NONE
    # Sent to newsletter subscribers (who may not have given), not supporters: no per-message
    # record, so its page counts the outbox's emails of this kind.
    for_subscribers: bool = False

    @property
    def allowed(self) -> dict[str, str]:
        return {**COMMON_PLACEHOLDERS, **self.placeholders}


_DUNNING_PLACEHOLDERS = {
    "amount": "the renewal's amount",
    "fix_link": "Stripe's page to pay the invoice or update the card",
}
_DUNNING_SAMPLE = {"amount": "$10.00", "fix_link": "https://invoice.stripe.com/i/sample"}


def _dunning(name: str, title: str, when: str, subject: str, body: str) -> Kind:
    return Kind(
        name,
        title,
        when,
        "dunning",
        _DUNNING_PLACEHOLDERS,
        subject,
        body,
        _DUNNING_SAMPLE,
        Conversion.INVOICE_PAID,
    )


KINDS: dict[str, Kind] = {
    kind.name: kind
    for kind in (
        Kind(
            "welcome",
            "Welcome",
            "after a supporter's first gift, once per supporter",
            "welcome",
            {"amount": "the first gift"},
            "Welcome to {publication_name}",
            "Dear {first_name},\n\nThank you for your gift of {amount}. I wanted to write to you "
            "myself: readers like you are the reason {publication_name} can report without "
            "fear or favour.\n\nYour receipts and gifts are always at {account_link}.\n\n"
            "The editor",
            {"amount": "$25.00"},
        ),
        Kind(
            "upgrade_ask",
            "Upgrade ask",
            "one-off donors, some days after a gift (UPGRADE_ASK_DAYS); never to someone who "
            "gives monthly already; at most once in 12 months",
            "upgrade_ask",
            {
                "amount": "the gift they gave",
                "monthly_amount": "the monthly amount we suggest",
                "monthly_link": "a page with one button that opens Checkout for that monthly gift",
            },
            "Would you give {monthly_amount} a month?",
            "Dear {first_name},\n\nA month ago you gave {amount} to {publication_name}. Thank "
            "you. Monthly gifts let us plan our reporting: would you give {monthly_amount} a "
            "month?\n\n[Give {monthly_amount} a month]({monthly_link})",
            {
                "amount": "$25.00",
                "monthly_amount": "$5.00",
                "monthly_link": "https://example.org/support",
            },
            Conversion.RECURRING_GIFT,
        ),
        Kind(
            "win_back",
            "Win-back",
            "one-off donors whose last gift was 11–13 months ago, and recurring supporters 60 "
            "days after their gift ended; once per lapse",
            "win_back",
            {"last_gift_date": "the date of their last gift", "give_link": "the support form"},
            "We miss you at {publication_name}",
            "Dear {first_name},\n\nYour last gift to {publication_name} was on "
            "{last_gift_date}. Our reporting goes on, and so does our need for readers like "
            "you.\n\n[Support us again]({give_link})",
            {"last_gift_date": "3 March 2026", "give_link": "https://example.org/support"},
            Conversion.ANY_GIFT,
        ),
        _dunning(
            "dunning_day_0",
            "Failed renewal, day 0",
            "the day a renewal fails",
            "Your gift to {publication_name} did not go through",
            "Dear {first_name},\n\nYour bank declined the renewal of your gift of {amount}. "
            "You can pay it or update your card here:\n\n[Pay or update the card]({fix_link})"
            "\n\nThank you for your support.",
        ),
        _dunning(
            "dunning_day_3",
            "Failed renewal, day 3",
            "3 days after a renewal failed, unless it was paid since",
            "A reminder: your gift of {amount} is still unpaid",
            "Dear {first_name},\n\nYour gift of {amount} to {publication_name} is still unpaid. "
            "It takes a minute to fix:\n\n[Pay or update the card]({fix_link})",
        ),
        _dunning(
            "dunning_day_7",
            "Failed renewal, day 7",
            "7 days after a renewal failed, unless it was paid since",
            "Last reminder: your gift to {publication_name}",
            "Dear {first_name},\n\nWe still could not collect your gift of {amount}. If it is "
            "not paid soon, your recurring gift will stop.\n\n[Pay or update the card]"
            "({fix_link})",
        ),
        Kind(
            "dunning_final",
            "Failed renewal, final notice",
            "when Stripe cancels the gift after its retries",
            "dunning",
            {"amount": "the gift's amount", "restart_link": "the support form, to start again"},
            "Your recurring gift to {publication_name} has stopped",
            "Dear {first_name},\n\nWe could not collect your gift of {amount}, so it has "
            "stopped. Thank you for everything you gave. If you would like to start again:\n\n"
            "[Restart my gift]({restart_link})",
            {"amount": "$10.00", "restart_link": "https://example.org/support"},
            Conversion.ANY_GIFT,
        ),
        Kind(
            "card_expiring",
            "Card expiring",
            "recurring supporters, the month before their card expires",
            "card_expiring",
            {"expiry": "the card's expiry (MM/YYYY)", "update_card_link": "the account page"},
            "Your card expires at the end of next month",
            "Dear {first_name},\n\nThe card that pays your gift to {publication_name} expires "
            "{expiry}. To keep your support going, please update it:\n\n[Update my card]"
            "({update_card_link})",
            {"expiry": "01/2027", "update_card_link": "https://example.org/account"},
        ),
        Kind(
            "year_in_review",
            "Year in review",
            "in January, everyone who gave last year",
            "year_in_review",
            {
                "year": "last year",
                "total": "what they gave last year",
                "statement_link": "their yearly statement",
            },
            "Your {year} with {publication_name}",
            "Dear {first_name},\n\nIn {year} you gave {total} to {publication_name}. Your "
            "statement for the year is here: [your {year} statement]({statement_link}).\n\n"
            "## What your support made possible\n\nInvestigations, daily reporting and a "
            "newsroom that answers to its readers. Thank you.",
            {"year": "2026", "total": "$120.00", "statement_link": "https://example.org/account"},
        ),
        Kind(
            "newsletter_welcome",
            "Newsletter welcome",
            "a reader who confirmed their newsletter subscription, once per address",
            "newsletter",
            {"newsletter_name": "the newsletter's name"},
            "Welcome to {newsletter_name}",
            "Hello,\n\nThank you for confirming: {newsletter_name} will reach you every week. "
            "It is written by the newsroom of {publication_name}, and it is free, paid for by "
            "our readers.",
            {"newsletter_name": "The Observatory Weekly"},
            for_subscribers=True,
        ),
    )
}

SAMPLE_COMMON = {"first_name": "Ada", "account_link": "https://example.org/account"}
