"""customers: the Stripe customer of each donation and subscription, every customer of a supporter

Revision ID: 0007_customers_currency
Revises: 0009_jobs
Create Date: 2026-12-02 01:10:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0007_customers_currency"
down_revision = "0009_jobs"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('supporter_customer',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('supporter_id', sa.Integer(), nullable=False),
    sa.Column('stripe_customer_id', sa.String(length=255), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['supporter_id'], ['supporter.id'], name=op.f('fk_supporter_customer_supporter_id_supporter')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_supporter_customer')),
    sa.UniqueConstraint('stripe_customer_id', name=op.f('uq_supporter_customer_stripe_customer_id'))
    )
    with op.batch_alter_table('supporter_customer', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_supporter_customer_supporter_id'), ['supporter_id'], unique=False)

    with op.batch_alter_table('donation', schema=None) as batch_op:
        batch_op.add_column(sa.Column('stripe_customer_id', sa.String(length=255), nullable=True))
        batch_op.create_index(batch_op.f('ix_donation_stripe_customer_id'), ['stripe_customer_id'], unique=False)

    with op.batch_alter_table('subscription', schema=None) as batch_op:
        batch_op.add_column(sa.Column('stripe_customer_id', sa.String(length=255), nullable=True))
        batch_op.create_index(batch_op.f('ix_subscription_stripe_customer_id'), ['stripe_customer_id'], unique=False)

    # The one customer known so far for each supporter. Earlier rows' own customers are unknown:
    # the card page asks Stripe for a subscription's customer when its row has none.
    op.execute(
        "INSERT INTO supporter_customer (supporter_id, stripe_customer_id, created_at) "
        "SELECT id, stripe_customer_id, created_at FROM supporter WHERE stripe_customer_id IS NOT NULL"
    )


def downgrade():
    with op.batch_alter_table('subscription', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_subscription_stripe_customer_id'))
        batch_op.drop_column('stripe_customer_id')

    with op.batch_alter_table('donation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_donation_stripe_customer_id'))
        batch_op.drop_column('stripe_customer_id')

    with op.batch_alter_table('supporter_customer', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_supporter_customer_supporter_id'))

    op.drop_table('supporter_customer')
