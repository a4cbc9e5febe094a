"""Typed SQLAlchemy models, one module per aggregate; importing this registers them all."""

from membership.models.account import AccountKind, SignInToken
from membership.models.article import (
    Article,
    ArticleStatus,
    BannerStat,
    BannerVariant,
    Frequency,
)
from membership.models.audit import AuditEntry
from membership.models.base import Base, UTCDateTime, utcnow
from membership.models.donation import (
    BillingInterval,
    Donation,
    DonationIntent,
    DonationKind,
    DonationRefund,
    DonationStatus,
    IntentStatus,
    MrrSpan,
    StripeEvent,
    Subscription,
    SubscriptionStatus,
)
from membership.models.email import EmailMessage, EmailStatus
from membership.models.integrations import (
    ApiToken,
    ApiTokenUse,
    DeliveryStatus,
    WebhookDelivery,
    WebhookEndpoint,
)
from membership.models.job import JobLease
from membership.models.newsletter import (
    ConsentEvent,
    ConsentKind,
    IssueDelivery,
    IssueStatus,
    NewsletterIssue,
    Subscriber,
    SubscriberStatus,
)
from membership.models.staff import StaffMember, StaffRole
from membership.models.supporter import Supporter, SupporterCustomer

__all__ = [
    "ApiToken",
    "ApiTokenUse",
    "DeliveryStatus",
    "WebhookDelivery",
    "WebhookEndpoint",
    "JobLease",
    "AccountKind",
    "SignInToken",
    "ConsentEvent",
    "ConsentKind",
    "IssueDelivery",
    "IssueStatus",
    "NewsletterIssue",
    "Subscriber",
    "SubscriberStatus",
    "BillingInterval",
    "Donation",
    "DonationIntent",
    "DonationKind",
    "DonationRefund",
    "MrrSpan",
    "AuditEntry",
    "DonationStatus",
    "IntentStatus",
    "StripeEvent",
    "Subscription",
    "SubscriptionStatus",
    "Supporter",
    "SupporterCustomer",
    "Article",
    "ArticleStatus",
    "BannerStat",
    "BannerVariant",
    "Base",
    "EmailMessage",
    "EmailStatus",
    "Frequency",
    "StaffMember",
    "StaffRole",
    "UTCDateTime",
    "utcnow",
]
