"""Jobs recorded before they are handed to the queue; what an identifying source found that
widens the others' search, kept on its run.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01

"""
import sqlalchemy as sa
from alembic import op

import dsr.database

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('jobs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('args', sa.JSON(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('created_at', dsr.database.UTCDateTime(timezone=True), nullable=False),
    sa.Column('handed_at', dsr.database.UTCDateTime(timezone=True), nullable=True),
    sa.Column('started_at', dsr.database.UTCDateTime(timezone=True), nullable=True),
    sa.Column('finished_at', dsr.database.UTCDateTime(timezone=True), nullable=True),
    sa.Column('error', sa.String(length=200), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_jobs'))
    )
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.create_index('ix_jobs_state_created_at', ['state', 'created_at'], unique=False)
    with op.batch_alter_table('source_runs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('identity', sa.JSON(), nullable=False,
                                      server_default='{}'))
        batch_op.add_column(sa.Column('scope', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('follow_up', sa.String(length=64), nullable=True))


def downgrade():
    with op.batch_alter_table('source_runs', schema=None) as batch_op:
        batch_op.drop_column('follow_up')
        batch_op.drop_column('scope')
        batch_op.drop_column('identity')
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.drop_index('ix_jobs_state_created_at')
    op.drop_table('jobs')
