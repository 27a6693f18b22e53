"""Staff withhold a finding, or passages of it, on a ground the answer gives (GDPR Art. 15(4)
and the exemptions of national law); a finding withheld before is withheld for another
person's sake, the one ground there was.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01

"""
import sqlalchemy as sa
from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('found_items', schema=None) as batch_op:
        batch_op.add_column(sa.Column('withheld_ground', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('withheld_note', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('redactions', sa.JSON(), nullable=False,
                                      server_default='[]'))
    op.execute("UPDATE found_items SET withheld_ground = 'another_person' WHERE withheld")
    with op.batch_alter_table('found_items', schema=None) as batch_op:
        batch_op.drop_column('withheld')


def downgrade():
    with op.batch_alter_table('found_items', schema=None) as batch_op:
        batch_op.add_column(sa.Column('withheld', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
    op.execute("UPDATE found_items SET withheld = true WHERE withheld_ground IS NOT NULL")
    with op.batch_alter_table('found_items', schema=None) as batch_op:
        batch_op.drop_column('redactions')
        batch_op.drop_column('withheld_note')
        batch_op.drop_column('withheld_ground')
