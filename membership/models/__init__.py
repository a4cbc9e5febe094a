"""Typed SQLAlchemy models, one module per aggregate; importing this registers them all."""

from membership.models.account import AccountKind, SignInToken
from membership.models.article import (
    Article,
    ArticleStatus,
    BannerClick,
    BannerStat,
    BannerVariant,
    Frequency,
    Placement,
)
from membership.models.audit import AuditEntry
from membership.models.base import Base, UTCDateTime, utcnow
from membership.models.campaign import AppealReminder, Campaign
from membership.models.donation import (
    COUNTED_REFUNDS,
    BillingInterval,
    DisputeMovement,
    Donation,
    DonationIntent,
    DonationKind,
    DonationRefund,
    DonationStatus,
    IntentStatus,
    MrrSpan,
    RefundStatus,
    StripeEvent,
    Subscription,
    SubscriptionStatus,
)
from membership.models.email import EmailMessage, EmailStatus, EmailSuppression
from membership.models.integrations import (
    ApiToken,
    ApiTokenUse,
    DeliveryStatus,
    WebhookDelivery,
    WebhookEndpoint,
)
from membership.models.job import JobLease
from membership.models.lifecycle import (
    FailedRenewal,
    LifecycleMessage,
    LifecycleOptOut,
    LifecycleSetting,
)
from membership.models.newsletter import (
    ConsentEvent,
    ConsentKind,
    IssueDelivery,
    IssueLinkClick,
    IssueStatus,
    NewsletterIssue,
    Subscriber,
    SubscriberStatus,
)
from membership.models.report_summary import DailyMrr, DailySummary, SummaryZone
from membership.models.session import AccountSession, PasswordFailure
from membership.models.staff import StaffMember, StaffRole
from membership.models.supporter import Supporter, SupporterCustomer

__all__ = [
    "DailyMrr",
    "DailySummary",
    "SummaryZone",
    "ApiToken",
    "ApiTokenUse",
    "DeliveryStatus",
    "WebhookDelivery",
    "WebhookEndpoint",
    "JobLease",
    "AccountKind",
    "AccountSession",
    "PasswordFailure",
    "AppealReminder",
    "SignInToken",
    "ConsentEvent",
    "ConsentKind",
    "IssueDelivery",
    "IssueLinkClick",
    "EmailSuppression",
    "IssueStatus",
    "NewsletterIssue",
    "Subscriber",
    "SubscriberStatus",
    "BillingInterval",
    "Donation",
    "DonationIntent",
    "DonationKind",
    "DonationRefund",
    "COUNTED_REFUNDS",
    "DisputeMovement",
    "RefundStatus",
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
    "BannerClick",
    "BannerStat",
    "Campaign",
    "Placement",
    "BannerVariant",
    "Base",
    "EmailMessage",
    "EmailStatus",
    "FailedRenewal",
    "LifecycleMessage",
    "LifecycleOptOut",
    "LifecycleSetting",
    "Frequency",
    "StaffMember",
    "StaffRole",
    "UTCDateTime",
    "utcnow",
]
