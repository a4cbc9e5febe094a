"""email kind index: the outbox's emails of one kind (newsletter welcome counts, sign-in purges)
found through an index rather than a scan of every email ever queued

Revision ID: 0017_email_kind_index
Revises: 0016_newsletter_deliveries

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0017_email_kind_index'
down_revision = '0016_newsletter_deliveries'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('email_message', schema=None) as batch_op:
        batch_op.create_index('ix_email_message_kind_status', ['kind', 'status'], unique=False)


def downgrade():
    with op.batch_alter_table('email_message', schema=None) as batch_op:
        batch_op.drop_index('ix_email_message_kind_status')
