"""The audit trail keyed: each event names the key its HMAC-SHA256 was made with (none for the
events written before, whose hash is plain SHA-256).

A plain ADD COLUMN, never a batch copy: on SQLite a copy of the table would lose the triggers
that keep it append-only.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-03

"""
import sqlalchemy as sa
from alembic import op

revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('audit_events', sa.Column('key_id', sa.String(length=32), nullable=True))


def downgrade():
    # Plain SQL for the same reason (SQLite 3.35 and later drop a column in place).
    op.execute('ALTER TABLE audit_events DROP COLUMN key_id')
