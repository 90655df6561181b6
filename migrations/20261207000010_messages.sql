-- Messages between a market's admins and the people who write to them
-- (guide ch. 4–5: "Envoyer un message", "Envoyer un catalogue"). A
-- conversation is (market, correspondent): the correspondent is the account
-- outside the market's admin team; any admin of the market reads and answers.
-- Each message is also sent by e-mail through the outbox.

CREATE TABLE messages (
    id              uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    market_id       uuid        NOT NULL REFERENCES markets (id) ON DELETE CASCADE,
    correspondent_id uuid       NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    author_id       uuid        NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    from_admin      boolean     NOT NULL,
    producer_id     uuid        REFERENCES producers (id) ON DELETE SET NULL,
    catalog_id      uuid        REFERENCES catalogs (id) ON DELETE SET NULL,
    body            text        NOT NULL CHECK (char_length(btrim(body)) BETWEEN 1 AND 4000),
    created_at      timestamptz NOT NULL,
    read_at         timestamptz,
    CONSTRAINT messages_author_side CHECK (from_admin OR author_id = correspondent_id)
);
COMMENT ON TABLE messages IS
    'Conversations between a market''s admins and a correspondent (a producer''s member, a customer). '
    'Deleted with either account (nothing of a deleted account is kept).';
COMMENT ON COLUMN messages.producer_id IS 'The producer space the correspondent writes for, if any.';
COMMENT ON COLUMN messages.catalog_id IS '"Envoyer un catalogue": the catalog offered; an admin links it in one click.';
COMMENT ON COLUMN messages.read_at IS 'When the other side first read it (admins for a correspondent''s message, and back).';
CREATE INDEX messages_conversation ON messages (market_id, correspondent_id, created_at);
CREATE INDEX messages_correspondent ON messages (correspondent_id, created_at);
CREATE INDEX messages_author ON messages (author_id);
