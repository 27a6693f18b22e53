"""Subject sessions kept on the server: the sign-in a session started from holds its secret's
hash, until when it lasts, and when it was ended, so that a sign-out ends it everywhere.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-03

"""
import sqlalchemy as sa
from alembic import op

import dsr.database

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('subject_sign_ins') as batch:
        batch.add_column(sa.Column('session_hash', sa.String(length=64), nullable=True))
        batch.add_column(sa.Column('session_until', dsr.database.UTCDateTime(), nullable=True))
        batch.add_column(sa.Column('ended_at', dsr.database.UTCDateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table('subject_sign_ins') as batch:
        batch.drop_column('ended_at')
        batch.drop_column('session_until')
        batch.drop_column('session_hash')
