"""Findings carry their record's date, and are indexed in the answer's order (by source,
kind, date), so that an answer is read from the database in order, a part at a time.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-03

"""
import sqlalchemy as sa
from alembic import op

from dsr.models.collection import record_date

revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None

found_items = sa.table('found_items', sa.column('id', sa.Integer), sa.column('context', sa.JSON),
                       sa.column('dated', sa.String))


def upgrade():
    with op.batch_alter_table('found_items') as batch:
        batch.add_column(sa.Column('dated', sa.String(length=10), nullable=False,
                                   server_default=''))
        batch.drop_index('ix_found_items_request_source')
        batch.create_index('ix_found_items_answer', ['request_id', 'source', 'category', 'dated'])
    connection = op.get_bind()
    rows = connection.execute(sa.select(found_items.c.id, found_items.c.context)).all()
    dates = [{"key": key, "dated": record_date(context or {})} for key, context in rows]
    if dates := [d for d in dates if d["dated"]]:
        connection.execute(found_items.update().where(found_items.c.id == sa.bindparam("key"))
                           .values(dated=sa.bindparam("dated")), dates)


def downgrade():
    with op.batch_alter_table('found_items') as batch:
        batch.drop_index('ix_found_items_answer')
        batch.create_index('ix_found_items_request_source', ['request_id', 'source'])
        batch.drop_column('dated')
