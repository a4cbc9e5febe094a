"""daily summary: money per local day, currency, kind and gift amount, and MRR started and ended per day, for the staff reports

Revision ID: 0014_daily_summary
Revises: 0015_outbox_render

The table starts empty and no zone is marked complete, so the reports keep reading the raw rows
(same figures) until `flask reports rebuild-summary` has filled it.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0014_daily_summary'
down_revision = '0015_outbox_render'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('summary_zone',
    sa.Column('zone', sa.String(length=64), nullable=False),
    sa.Column('rebuilt_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('zone', name=op.f('pk_summary_zone'))
    )
    op.create_table('daily_summary',
    sa.Column('zone', sa.String(length=64), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('amount_cents', sa.Integer(), nullable=False),
    sa.Column('donations', sa.Integer(), nullable=False),
    sa.Column('fees_cents', sa.Integer(), nullable=False),
    sa.Column('refunds_cents', sa.Integer(), nullable=False),
    sa.Column('dispute_cents', sa.Integer(), nullable=False),
    sa.Column('dispute_fee_cents', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('zone', 'day', 'currency', 'kind', 'amount_cents', name=op.f('pk_daily_summary'))
    )
    op.create_table('daily_mrr',
    sa.Column('zone', sa.String(length=64), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('started_cents', sa.Integer(), nullable=False),
    sa.Column('started_count', sa.Integer(), nullable=False),
    sa.Column('ended_cents', sa.Integer(), nullable=False),
    sa.Column('ended_count', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('zone', 'day', name=op.f('pk_daily_mrr'))
    )


def downgrade():
    op.drop_table('daily_mrr')
    op.drop_table('daily_summary')
    op.drop_table('summary_zone')
