"""next_change: a recurring gift's change that starts with its next payment

Revision ID: 0018_next_change
Revises: 0012_integrations

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0018_next_change'
down_revision = '0012_integrations'
branch_labels = None
depends_on = None

COLUMNS = ('next_amount_cents', 'next_fee_cents', 'next_interval', 'next_change_at')


def upgrade():
    # Plain ADD COLUMN (nullable, no default) on both databases: no table rebuild on SQLite.
    op.add_column('subscription', sa.Column('next_amount_cents', sa.Integer(), nullable=True))
    op.add_column('subscription', sa.Column('next_fee_cents', sa.Integer(), nullable=True))
    op.add_column('subscription', sa.Column('next_interval', sa.String(length=20), nullable=True))
    op.add_column(
        'subscription', sa.Column('next_change_at', sa.DateTime(timezone=True), nullable=True)
    )


def downgrade():
    # SQLite drops a plain column in place (3.35 and later), as PostgreSQL does.
    for column in reversed(COLUMNS):
        op.drop_column('subscription', column)
