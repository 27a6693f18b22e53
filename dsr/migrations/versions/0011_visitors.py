"""What a visitor who is not a customer gives to be found in the analytics, kept on the request.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01

"""
import sqlalchemy as sa
from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('requests', schema=None) as batch_op:
        batch_op.add_column(sa.Column('visitor_identifiers', sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table('requests', schema=None) as batch_op:
        batch_op.drop_column('visitor_identifiers')
