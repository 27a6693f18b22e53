"""The outbox by address and time: what the e-mail budget of one address counts.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-03

"""
from alembic import op

revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_outbox_messages_to_address_created_at', 'outbox_messages',
                    ['to_address', 'created_at'])


def downgrade():
    op.drop_index('ix_outbox_messages_to_address_created_at', table_name='outbox_messages')
