"""outbox: messages rendered at delivery from their stored data

Revision ID: 0015_outbox_render
Revises: 0017_email_kind_index

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0015_outbox_render'
down_revision = '0017_email_kind_index'
branch_labels = None
depends_on = None


def upgrade():
    # What a message is rendered from when the worker sends it (its kind names the template);
    # NULL for messages queued with their bodies, as before.
    with op.batch_alter_table('email_message', schema=None) as batch_op:
        batch_op.add_column(sa.Column('render_data', sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table('email_message', schema=None) as batch_op:
        batch_op.drop_column('render_data')
