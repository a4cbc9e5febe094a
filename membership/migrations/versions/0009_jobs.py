"""jobs: one lease row per periodic job, so several workers run each job once per period

Revision ID: 0009_jobs
Revises: 0006_staff
Create Date: 2026-12-02 01:25:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0009_jobs"
down_revision = "0006_staff"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('job_lease',
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('period_start', sa.DateTime(timezone=True), nullable=True),
    sa.Column('period_done', sa.Boolean(), nullable=False),
    sa.Column('leased_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('leased_by', sa.String(length=80), nullable=True),
    sa.Column('retry_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('last_started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_succeeded_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_summary', sa.Text(), nullable=True),
    sa.CheckConstraint('failures >= 0', name=op.f('ck_job_lease_failures_not_negative')),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_job_lease'))
    )


def downgrade():
    op.drop_table('job_lease')
