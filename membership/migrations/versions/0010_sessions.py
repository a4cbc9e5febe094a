"""sessions: signed-in sessions kept on the server, password failures per address

Revision ID: 0010_sessions
Revises: 0008_refunds_disputes
Create Date: 2026-12-02 01:10:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0010_sessions"
down_revision = "0008_refunds_disputes"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('account_session',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.Enum('supporter', 'staff', name='accountkind', native_enum=False, length=20, create_constraint=True), nullable=False),
    sa.Column('supporter_id', sa.Integer(), nullable=True),
    sa.Column('staff_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint('(supporter_id IS NULL) <> (staff_id IS NULL)', name=op.f('ck_account_session_one_kind_of_account')),
    sa.ForeignKeyConstraint(['staff_id'], ['staff_member.id'], name=op.f('fk_account_session_staff_id_staff_member'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['supporter_id'], ['supporter.id'], name=op.f('fk_account_session_supporter_id_supporter'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_account_session')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_account_session_token_hash'))
    )
    with op.batch_alter_table('account_session', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_account_session_staff_id'), ['staff_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_account_session_supporter_id'), ['supporter_id'], unique=False)

    op.create_table('password_failure',
    sa.Column('email', sa.String(length=320), nullable=False),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('last_failed_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('email', name=op.f('pk_password_failure'))
    )


def downgrade():
    op.drop_table('password_failure')
    with op.batch_alter_table('account_session', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_account_session_supporter_id'))
        batch_op.drop_index(batch_op.f('ix_account_session_staff_id'))

    op.drop_table('account_session')
