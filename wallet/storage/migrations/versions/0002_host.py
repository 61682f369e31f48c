"""The wallet host: verifiers' requests, sealed releases, DPoP replay, idempotency, refusals.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-06

Written by hand against ``wallet.storage.models`` (plain ``sa.String``, as in
0001). The two new ``consent`` columns are nullable, so existing rows need no
default; SQLite adds them with ``ALTER TABLE ... ADD COLUMN``.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_EVENT_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.add_column("consent", sa.Column("holder_jwk", sa.Text(), nullable=True))
    op.add_column("consent", sa.Column("last_used_at", sa.BigInteger(), nullable=True))
    op.create_table(
        "consent_request",
        sa.Column("id", sa.String(length=128), nullable=False),
        sa.Column("owner", sa.String(length=64), nullable=False),
        sa.Column("verifier_id", sa.String(length=512), nullable=False),
        sa.Column("request_jti", sa.String(length=128), nullable=False),
        sa.Column("token", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("received_at", sa.BigInteger(), nullable=False),
        sa.Column("expires_at", sa.BigInteger(), nullable=False),
        sa.Column("answered_at", sa.BigInteger(), nullable=True),
        sa.Column("consent_id", sa.String(length=128), nullable=True),
        sa.CheckConstraint(
            "state IN ('pending', 'approved', 'refused', 'expired')",
            name=op.f("ck_consent_request_state"),
        ),
        sa.ForeignKeyConstraint(
            ["consent_id"], ["consent.id"], name=op.f("fk_consent_request_consent_id_consent")
        ),
        sa.ForeignKeyConstraint(
            ["owner"],
            ["wallet.id"],
            name=op.f("fk_consent_request_owner_wallet"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consent_request")),
        sa.UniqueConstraint(
            "verifier_id", "request_jti", name=op.f("uq_consent_request_verifier_id_request_jti")
        ),
    )
    op.create_index(op.f("ix_consent_request_owner_state"), "consent_request", ["owner", "state"])
    op.create_table(
        "release",
        sa.Column("consent_id", sa.String(length=128), nullable=False),
        sa.Column("owner", sa.String(length=64), nullable=False),
        sa.Column("jwe", sa.Text(), nullable=False),
        sa.Column("attributes", sa.Text(), nullable=False),
        sa.Column("recipient_kid", sa.String(length=128), nullable=False),
        sa.Column("sealed_at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["consent_id"], ["consent.id"], name=op.f("fk_release_consent_id_consent")
        ),
        sa.ForeignKeyConstraint(["owner"], ["wallet.id"], name=op.f("fk_release_owner_wallet")),
        sa.PrimaryKeyConstraint("consent_id", name=op.f("pk_release")),
    )
    op.create_table(
        "dpop_proof",
        sa.Column("jkt", sa.String(length=64), nullable=False),
        sa.Column("jti", sa.String(length=128), nullable=False),
        sa.Column("expires_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("jkt", "jti", name=op.f("pk_dpop_proof")),
    )
    op.create_index(op.f("ix_dpop_proof_expires_at"), "dpop_proof", ["expires_at"])
    op.create_table(
        "idempotency_entry",
        sa.Column("scope", sa.String(length=256), nullable=False),
        sa.Column("key", sa.String(length=128), nullable=False),
        sa.Column("request_sha256", sa.String(length=64), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("scope", "key", name=op.f("pk_idempotency_entry")),
    )
    op.create_index(op.f("ix_idempotency_entry_created_at"), "idempotency_entry", ["created_at"])
    op.create_table(
        "read_refusal",
        sa.Column("id", _EVENT_ID, nullable=False),
        sa.Column("at", sa.BigInteger(), nullable=False),
        sa.Column("route", sa.String(length=64), nullable=False),
        sa.Column("consent_id", sa.String(length=128), nullable=True),
        sa.Column("jkt", sa.String(length=64), nullable=True),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_read_refusal")),
    )
    op.create_index(op.f("ix_read_refusal_consent_id"), "read_refusal", ["consent_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_read_refusal_consent_id"), table_name="read_refusal")
    op.drop_table("read_refusal")
    op.drop_index(op.f("ix_idempotency_entry_created_at"), table_name="idempotency_entry")
    op.drop_table("idempotency_entry")
    op.drop_index(op.f("ix_dpop_proof_expires_at"), table_name="dpop_proof")
    op.drop_table("dpop_proof")
    op.drop_table("release")
    op.drop_index(op.f("ix_consent_request_owner_state"), table_name="consent_request")
    op.drop_table("consent_request")
    with op.batch_alter_table("consent") as batch:
        batch.drop_column("last_used_at")
        batch.drop_column("holder_jwk")
