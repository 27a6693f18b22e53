"""Retention: when a request's (and a disclosure record's) personal side was purged, and the
sources' records older than their stated retention, as last counted.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-03

"""
import sqlalchemy as sa
from alembic import op

import dsr.database

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('requests') as batch:
        batch.add_column(sa.Column('purged_at', dsr.database.UTCDateTime(), nullable=True))
        batch.add_column(sa.Column('purged_by_rule', sa.String(length=64), nullable=True))
    with op.batch_alter_table('disclosures') as batch:
        batch.add_column(sa.Column('purged_at', dsr.database.UTCDateTime(), nullable=True))
    op.create_table(
        'aged_records',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('source', sa.String(length=64), nullable=False),
        sa.Column('kind', sa.String(length=200), nullable=False),
        sa.Column('count', sa.Integer(), nullable=False),
        sa.Column('older_than', sa.Date(), nullable=True),
        sa.Column('checked_at', dsr.database.UTCDateTime(), nullable=False),
        sa.Column('error', sa.String(length=400), nullable=True),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_aged_records_source', 'aged_records', ['source'])


def downgrade():
    op.drop_index('ix_aged_records_source', table_name='aged_records')
    op.drop_table('aged_records')
    with op.batch_alter_table('disclosures') as batch:
        batch.drop_column('purged_at')
    with op.batch_alter_table('requests') as batch:
        batch.drop_column('purged_by_rule')
        batch.drop_column('purged_at')
