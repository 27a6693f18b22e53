"""What each source was searched by, kept on its run, so that the answer can say it.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01

"""
import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('source_runs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('searched', sa.JSON(), nullable=False,
                                      server_default='{}'))


def downgrade():
    with op.batch_alter_table('source_runs', schema=None) as batch_op:
        batch_op.drop_column('searched')
