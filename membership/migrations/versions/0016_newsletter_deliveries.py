"""newsletter deliveries: a send queues delivery rows only; the worker makes each message

Revision ID: 0016_newsletter_deliveries
Revises: 0018_next_change

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0016_newsletter_deliveries'
down_revision = '0018_next_change'
branch_labels = None
depends_on = None

WAITING = 'email_message_id IS NULL AND not_sent_reason IS NULL'


def upgrade():
    with op.batch_alter_table('issue_delivery', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('appeal', sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.add_column(sa.Column('not_sent_reason', sa.String(length=200), nullable=True))
    # Rows from before this revision always had their message; one whose message was deleted
    # since must not be taken for a row still waiting for one.
    op.execute(
        "UPDATE issue_delivery SET not_sent_reason = 'its message was removed' "
        "WHERE email_message_id IS NULL"
    )
    with op.batch_alter_table('issue_delivery', schema=None) as batch_op:
        batch_op.create_index(
            'ix_issue_delivery_waiting',
            ['id'],
            unique=False,
            sqlite_where=sa.text(WAITING),
            postgresql_where=sa.text(WAITING),
        )


def downgrade():
    with op.batch_alter_table('issue_delivery', schema=None) as batch_op:
        batch_op.drop_index(
            'ix_issue_delivery_waiting',
            sqlite_where=sa.text(WAITING),
            postgresql_where=sa.text(WAITING),
        )
        batch_op.drop_column('not_sent_reason')
        batch_op.drop_column('appeal')
