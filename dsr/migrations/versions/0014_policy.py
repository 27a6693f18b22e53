"""The privacy policy as versioned text, published versions that the database keeps as they
were published, and the mailing that tells every customer of a new version.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02

"""
import sqlalchemy as sa
from alembic import op

import dsr.database

revision = '0014'
down_revision = '0012'
branch_labels = None
depends_on = None

# What was published stays as it was published: its number, text, summary, date, publisher.
FROZEN = ("number", "text", "summary", "effective_on", "published_at", "published_by")
_CHANGED = " OR ".join(f"NEW.{c} IS NOT OLD.{c}" for c in FROZEN)
_CHANGED_PG = " OR ".join(f"NEW.{c} IS DISTINCT FROM OLD.{c}" for c in FROZEN)
SQLITE_TRIGGERS = [
    f"""CREATE TRIGGER policy_versions_published_kept BEFORE UPDATE ON policy_versions
        WHEN OLD.published_at IS NOT NULL AND ({_CHANGED})
        BEGIN SELECT RAISE(ABORT, 'a published policy version is never edited'); END""",
    """CREATE TRIGGER policy_versions_published_not_deleted BEFORE DELETE ON policy_versions
        WHEN OLD.published_at IS NOT NULL
        BEGIN SELECT RAISE(ABORT, 'a published policy version is never deleted'); END""",
]
POSTGRESQL_TRIGGERS = [
    f"""CREATE FUNCTION policy_versions_published_kept() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF TG_OP = 'DELETE' AND OLD.published_at IS NOT NULL THEN
            RAISE EXCEPTION 'a published policy version is never deleted';
          END IF;
          IF TG_OP = 'UPDATE' AND OLD.published_at IS NOT NULL AND ({_CHANGED_PG}) THEN
            RAISE EXCEPTION 'a published policy version is never edited';
          END IF;
          RETURN COALESCE(NEW, OLD);
        END $$""",
    """CREATE TRIGGER policy_versions_published_kept BEFORE UPDATE OR DELETE ON policy_versions
        FOR EACH ROW EXECUTE FUNCTION policy_versions_published_kept()""",
]


def upgrade():
    op.create_table(
        'policy_versions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('number', sa.Integer(), nullable=True),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('summary', sa.Text(), nullable=False),
        sa.Column('effective_on', sa.Date(), nullable=False),
        sa.Column('created_by', sa.Integer(), nullable=False),
        sa.Column('created_at', dsr.database.UTCDateTime(), nullable=False),
        sa.Column('updated_at', dsr.database.UTCDateTime(), nullable=False),
        sa.Column('published_by', sa.Integer(), nullable=True),
        sa.Column('published_at', dsr.database.UTCDateTime(), nullable=True),
        sa.Column('withdrawn_at', dsr.database.UTCDateTime(), nullable=True),
        sa.Column('withdrawn_by_number', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['created_by'], ['users.id'],
                                name=op.f('fk_policy_versions_created_by_users')),
        sa.ForeignKeyConstraint(['published_by'], ['users.id'],
                                name=op.f('fk_policy_versions_published_by_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_policy_versions')),
        sa.UniqueConstraint('number', name=op.f('uq_policy_versions_number')),
    )
    op.create_table(
        'policy_mailings',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('version_id', sa.Integer(), nullable=False),
        sa.Column('state', sa.String(length=16), nullable=False),
        sa.Column('corrects', sa.String(length=200), nullable=False),
        sa.Column('listed', sa.Integer(), nullable=False),
        sa.Column('skipped_newer', sa.Integer(), nullable=False),
        sa.Column('failed_sources', sa.String(length=400), nullable=False),
        sa.Column('sender_until', dsr.database.UTCDateTime(), nullable=True),
        sa.Column('created_at', dsr.database.UTCDateTime(), nullable=False),
        sa.Column('listed_at', dsr.database.UTCDateTime(), nullable=True),
        sa.Column('finished_at', dsr.database.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(['version_id'], ['policy_versions.id'],
                                name=op.f('fk_policy_mailings_version_id_policy_versions')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_policy_mailings')),
        sa.UniqueConstraint('version_id', name=op.f('uq_policy_mailings_version_id')),
    )
    listed = sa.text("mailing_id IS NOT NULL AND to_address <> ''")
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('mailing_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f('fk_outbox_messages_mailing_id_policy_mailings'), 'policy_mailings',
            ['mailing_id'], ['id'], ondelete='CASCADE')
        batch_op.create_index(batch_op.f('ix_outbox_messages_mailing_id'), ['mailing_id'],
                              unique=False)
    op.create_index('uq_outbox_messages_mailing_address', 'outbox_messages',
                    ['mailing_id', 'to_address'], unique=True, sqlite_where=listed,
                    postgresql_where=listed)
    dialect = op.get_bind().dialect.name
    for statement in {"sqlite": SQLITE_TRIGGERS, "postgresql": POSTGRESQL_TRIGGERS}[dialect]:
        op.execute(statement)


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION policy_versions_published_kept() CASCADE")
    op.drop_index('uq_outbox_messages_mailing_address', table_name='outbox_messages')
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outbox_messages_mailing_id'))
        batch_op.drop_constraint(batch_op.f('fk_outbox_messages_mailing_id_policy_mailings'),
                                 type_='foreignkey')
        batch_op.drop_column('mailing_id')
    op.drop_table('policy_mailings')
    op.drop_table('policy_versions')
