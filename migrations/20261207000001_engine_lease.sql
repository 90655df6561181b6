-- The ordering lease of a cluster of etal nodes (src/store/lease.rs): one
-- row. The node holding it, until `expires_at` (the database's clock, so
-- nodes' clocks never matter), is the one active ordering engine. `epoch`
-- grows by one at every takeover; the order writer checks, inside each of
-- its transactions and under a share lock of this row, that it still holds
-- the epoch it was given, so a node that lost the lease commits nothing.
CREATE TABLE engine_lease (
    id smallint PRIMARY KEY CHECK (id = 1),
    epoch bigint NOT NULL,
    holder uuid,
    holder_url text,
    expires_at timestamptz NOT NULL
);
INSERT INTO engine_lease (id, epoch, holder, holder_url, expires_at)
VALUES (1, 0, NULL, NULL, '-infinity');
