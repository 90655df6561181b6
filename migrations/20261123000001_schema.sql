-- etal — whole-domain schema (PostgreSQL 15), embedded with sqlx::migrate!().
--
-- Conventions
--   * Primary keys are uuid (gen_random_uuid(), built into PG13+), except the
--     append-only logs (stock_movements, order_line_changes, outbox): bigserial.
--   * Times are timestamptz; money is numeric(12,2) incl. VAT; quantities and
--     stock are numeric(12,3); rates (VAT, fees) are numeric(5,2) percent.
--   * Short enums are text + CHECK (readable in psql, trivial to extend).
--   * numeric accepts 'NaN' and PostgreSQL sorts NaN above every number, so
--     "x >= 0" alone lets NaN through (and rust_decimal cannot decode it):
--     sign checks on numeric columns therefore also say "x <> 'NaN'".
--   * No CHECK compares an app-supplied time with a DB default (now()): the
--     engine uses an injectable clock, so only app-supplied times are compared.
--
-- Delete policy (ON DELETE chosen per reference)
--   * CASCADE for what only exists through its parent: memberships, tokens,
--     idempotency keys, catalog entries, snapshots, order lines of an order.
--   * NO ACTION (= restrict, checked at the end of the statement) for history:
--     orders, order lines (through the participation snapshot), payouts and
--     "who did it" references to accounts. An account, offer, distribution or
--     producer with order history cannot be deleted: deactivate, cancel or
--     anonymise instead. (NO ACTION, the SQL default, rather than RESTRICT
--     only so the check could be deferred if a migration ever needs it.)
--   * A producer, market or catalog without order history can be deleted in
--     one statement: everything that exists only through it cascades.
--
-- Stock: `ordered` is never stored. It is always
--   SELECT ol.offer_id, sum(ol.quantity) FROM order_lines ol
--   JOIN orders o ON o.id = ol.order_id AND o.status = 'confirmed'
--   WHERE ol.delivered_at IS NULL AND ol.offer_id = ANY($1) GROUP BY 1
-- served by the partial index order_lines_undelivered_by_offer;
-- available = offers.real_stock - ordered (when offers.stock_tracked).

-- ---------------------------------------------------------------------------
-- Accounts and sessions
-- ---------------------------------------------------------------------------

CREATE TABLE accounts (
    id            uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    email         text        NOT NULL UNIQUE
                  CONSTRAINT accounts_email_lowercase CHECK (email = lower(email))
                  CONSTRAINT accounts_email_shape CHECK (char_length(email) <= 254
                                                         AND email ~ '^[^@[:space:]]+@[^@[:space:]]+$'),
    name          text        NOT NULL CHECK (char_length(btrim(name)) BETWEEN 1 AND 200),
    password_hash text        NOT NULL CHECK (password_hash <> ''),
    created_at    timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE accounts IS
    'A person: customer, producer member or market admin. One login for every role. '
    'Accounts with history (orders, validations, stock or line changes) are anonymised, never deleted.';
COMMENT ON COLUMN accounts.email IS 'Stored lowercased so the UNIQUE constraint is case-insensitive.';
COMMENT ON COLUMN accounts.password_hash IS 'Argon2 PHC string; never the password.';

CREATE TABLE auth_tokens (
    id         uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    account_id uuid        NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    token_hash bytea       NOT NULL UNIQUE CHECK (octet_length(token_hash) = 32),
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    revoked_at timestamptz
);
COMMENT ON TABLE auth_tokens IS
    'Bearer sessions. Only the SHA-256 of the random 256-bit token is stored, so a database leak '
    'does not leak usable tokens. Lookup is by token_hash (its UNIQUE index).';
COMMENT ON COLUMN auth_tokens.revoked_at IS 'Set by DELETE /sessions/current; a revoked token is refused even before expiry.';
CREATE INDEX auth_tokens_account ON auth_tokens (account_id);

CREATE TABLE idempotency_keys (
    account_id    uuid        NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    key           text        NOT NULL CHECK (char_length(key) BETWEEN 1 AND 200),
    request_hash  bytea       NOT NULL CHECK (octet_length(request_hash) = 32),
    status_code   smallint    CHECK (status_code BETWEEN 100 AND 599),
    response_body jsonb,
    created_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (account_id, key)
);
COMMENT ON TABLE idempotency_keys IS
    'Idempotency-Key header: a retried request returns the first result instead of ordering twice. '
    'Keys are scoped per account so one client cannot replay another''s.';
COMMENT ON COLUMN idempotency_keys.request_hash IS
    'SHA-256 of method+path+body: the same key with a different request is a conflict, not a replay.';
COMMENT ON COLUMN idempotency_keys.status_code IS 'NULL while the first request is still in flight.';
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);

-- ---------------------------------------------------------------------------
-- Producers, their products, offers, VAT rates and catalogs
-- ---------------------------------------------------------------------------

CREATE TABLE producers (
    id          uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    name        text        NOT NULL CHECK (char_length(btrim(name)) BETWEEN 1 AND 200),
    description text,
    created_at  timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE producers IS
    'Espace Producteur: owns products, VAT rates, catalogs and stock. Only its members may manage it.';

CREATE TABLE producer_members (
    producer_id uuid        NOT NULL REFERENCES producers (id) ON DELETE CASCADE,
    account_id  uuid        NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    role        text        NOT NULL CHECK (role IN ('owner', 'collaborator')),
    added_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (producer_id, account_id)
);
COMMENT ON TABLE producer_members IS
    'Who may manage a producer (onglet Utilisateurs). One account may belong to several producers.';
COMMENT ON COLUMN producer_members.role IS 'owner (exactly the one who may add/remove members) or collaborator.';
-- At most one owner per producer (transfer = demote, then promote, in one transaction).
CREATE UNIQUE INDEX producer_members_one_owner ON producer_members (producer_id) WHERE role = 'owner';
CREATE INDEX producer_members_account ON producer_members (account_id);

CREATE TABLE products (
    id             uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    producer_id    uuid        NOT NULL REFERENCES producers (id) ON DELETE CASCADE,
    name           text        NOT NULL CHECK (char_length(btrim(name)) BETWEEN 1 AND 200),
    description    text,
    category       text        NOT NULL CHECK (char_length(btrim(category)) BETWEEN 1 AND 100),
    unit           text        NOT NULL CHECK (char_length(btrim(unit)) BETWEEN 1 AND 32),
    organic        boolean     NOT NULL DEFAULT false,
    photo_url      text        CHECK (char_length(photo_url) BETWEEN 1 AND 2048),
    active         boolean     NOT NULL DEFAULT true,
    variable_price boolean     NOT NULL DEFAULT false,
    multi_weight   boolean     NOT NULL DEFAULT false,
    fractional     boolean     NOT NULL DEFAULT false,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT products_multi_weight_implies_variable_price CHECK (NOT multi_weight OR variable_price),
    CONSTRAINT products_multi_weight_not_fractional CHECK (NOT (multi_weight AND fractional))
);
COMMENT ON TABLE products IS
    'What a producer sells (name, category, unit, organic, photo). Sold through one or more offers. '
    'Deactivating a product removes it from every catalog (shops filter on active).';
COMMENT ON COLUMN products.variable_price IS '"prix variable selon pesée": the final price follows the real weight after weighing.';
COMMENT ON COLUMN products.multi_weight IS '"multi-pesée": each unit bought has its own weight, so each unit is its own order line. Implies variable_price.';
COMMENT ON COLUMN products.fractional IS 'Customers may order non-integer quantities of its offers (bulk). Never with multi_weight.';
CREATE INDEX products_producer ON products (producer_id);

-- vat_rates comes after products on purpose: the cascades of a DELETE FROM producers fire in
-- creation order, so offers (via products) are gone before the VAT rates they reference.
CREATE TABLE vat_rates (
    id          uuid         PRIMARY KEY DEFAULT gen_random_uuid(),
    producer_id uuid         NOT NULL REFERENCES producers (id) ON DELETE CASCADE,
    name        text         NOT NULL CHECK (char_length(btrim(name)) BETWEEN 1 AND 100),
    rate        numeric(5,2) NOT NULL CHECK (rate BETWEEN 0 AND 100),
    UNIQUE (producer_id, name)
);
COMMENT ON TABLE vat_rates IS 'The producer''s VAT rates; every offer uses one. Cannot be deleted while an offer uses it.';
COMMENT ON COLUMN vat_rates.rate IS 'Percent: 5.50 means 5.5 %.';

CREATE TABLE offers (
    id            uuid          PRIMARY KEY DEFAULT gen_random_uuid(),
    product_id    uuid          NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    label         text          NOT NULL CHECK (char_length(btrim(label)) BETWEEN 1 AND 100),
    quantity      numeric(12,3) NOT NULL CHECK (quantity > 0 AND quantity <> 'NaN'),
    unit          text          NOT NULL CHECK (char_length(btrim(unit)) BETWEEN 1 AND 32),
    price         numeric(12,2) NOT NULL CHECK (price >= 0 AND price <> 'NaN'),
    vat_rate_id   uuid          NOT NULL REFERENCES vat_rates (id) ON DELETE NO ACTION,
    reference     text          CHECK (char_length(reference) BETWEEN 1 AND 100),
    stock_tracked boolean       NOT NULL DEFAULT false,
    real_stock    numeric(12,3) NOT NULL DEFAULT 0 CHECK (real_stock >= 0 AND real_stock <> 'NaN'),
    active        boolean       NOT NULL DEFAULT true,
    created_at    timestamptz   NOT NULL DEFAULT now(),
    updated_at    timestamptz   NOT NULL DEFAULT now()
);
COMMENT ON TABLE offers IS
    'One way a product is sold: label + quantity + unit + price incl. VAT + VAT rate ("Sac", 10 kg, 20.00). '
    'Holds the stock, shared by every market selling the offer. There is deliberately no "ordered" column: '
    'ordered = sum of undelivered confirmed order line quantities (see order_lines_undelivered_by_offer).';
COMMENT ON COLUMN offers.price IS 'Price incl. VAT for `quantity` `unit`; catalogs may override it.';
COMMENT ON COLUMN offers.vat_rate_id IS 'Must belong to the product''s producer (trigger offers_vat_rate_same_producer).';
COMMENT ON COLUMN offers.reference IS 'Producer''s own article reference (SKU), optional.';
COMMENT ON COLUMN offers.stock_tracked IS 'false = unlimited; true = ordering is refused once available (real_stock - ordered) reaches 0.';
COMMENT ON COLUMN offers.real_stock IS 'What the producer physically has ("stock réel"); lowered by settlement after each distribution.';
CREATE INDEX offers_product ON offers (product_id);
CREATE INDEX offers_vat_rate ON offers (vat_rate_id);

CREATE TABLE catalogs (
    id          uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    producer_id uuid        NOT NULL REFERENCES producers (id) ON DELETE CASCADE,
    name        text        NOT NULL CHECK (char_length(btrim(name)) BETWEEN 1 AND 200),
    code        text        NOT NULL UNIQUE CHECK (code ~ '^[0-9]{4,10}$'),
    created_at  timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE catalogs IS
    'A producer''s selection of offers (with optional price overrides) that it sells in markets. '
    'One catalog can serve several markets.';
COMMENT ON COLUMN catalogs.code IS 'Short numeric code (share link / told by phone) a market admin uses to link the catalog.';
CREATE INDEX catalogs_producer ON catalogs (producer_id);

CREATE TABLE catalog_entries (
    catalog_id     uuid          NOT NULL REFERENCES catalogs (id) ON DELETE CASCADE,
    offer_id       uuid          NOT NULL REFERENCES offers (id) ON DELETE CASCADE,
    price_override numeric(12,2) CHECK (price_override >= 0 AND price_override <> 'NaN'),
    position       integer       NOT NULL DEFAULT 0 CHECK (position >= 0),
    PRIMARY KEY (catalog_id, offer_id)
);
COMMENT ON TABLE catalog_entries IS
    'Offers in a catalog. The offer must belong to the catalog''s producer (trigger catalog_entries_same_producer).';
COMMENT ON COLUMN catalog_entries.price_override IS 'Catalog price incl. VAT; NULL = the offer''s price.';
COMMENT ON COLUMN catalog_entries.position IS 'Display order in the shop.';
CREATE INDEX catalog_entries_offer ON catalog_entries (offer_id);

-- ---------------------------------------------------------------------------
-- Markets, distributions and participations
-- ---------------------------------------------------------------------------

CREATE TABLE markets (
    id             uuid             PRIMARY KEY DEFAULT gen_random_uuid(),
    name           text             NOT NULL CHECK (char_length(btrim(name)) BETWEEN 1 AND 200),
    address        text             NOT NULL CHECK (char_length(btrim(address)) BETWEEN 1 AND 500),
    lat            double precision NOT NULL CHECK (lat BETWEEN -90 AND 90),
    lng            double precision NOT NULL CHECK (lng BETWEEN -180 AND 180),
    usual_weekday  smallint         CHECK (usual_weekday BETWEEN 1 AND 7),
    online_payment boolean          NOT NULL DEFAULT false,
    timezone       text             NOT NULL DEFAULT 'Europe/Paris' CHECK (char_length(timezone) BETWEEN 1 AND 64),
    fee_rate       numeric(5,2)     NOT NULL DEFAULT 0 CHECK (fee_rate BETWEEN 0 AND 100),
    created_at     timestamptz      NOT NULL DEFAULT now()
);
COMMENT ON TABLE markets IS
    'A Marché (group of customers) with admins, a place and a usual day. Sells the catalogs linked to it.';
COMMENT ON COLUMN markets.usual_weekday IS 'ISO weekday, Monday = 1 … Sunday = 7; a hint for planning.';
COMMENT ON COLUMN markets.online_payment IS 'false = producers and market settle payment directly; payouts are then "offline".';
COMMENT ON COLUMN markets.timezone IS 'IANA zone (validated by the app) for local dates: weekday, payout dates, recaps.';
COMMENT ON COLUMN markets.fee_rate IS 'Platform fee in percent, deducted from producer payouts.';

CREATE TABLE market_admins (
    market_id  uuid        NOT NULL REFERENCES markets (id) ON DELETE CASCADE,
    account_id uuid        NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    added_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (market_id, account_id)
);
COMMENT ON TABLE market_admins IS 'Accounts that manage a market: link catalogs, plan and validate distributions.';
CREATE INDEX market_admins_account ON market_admins (account_id);

CREATE TABLE market_catalogs (
    market_id  uuid        NOT NULL REFERENCES markets (id) ON DELETE CASCADE,
    catalog_id uuid        NOT NULL REFERENCES catalogs (id) ON DELETE CASCADE,
    linked_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (market_id, catalog_id)
);
COMMENT ON TABLE market_catalogs IS
    'A market admin linked a catalog (by its code): its producer may now take part in the market''s distributions.';
CREATE INDEX market_catalogs_catalog ON market_catalogs (catalog_id);

CREATE TABLE distributions (
    id              uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    market_id       uuid        NOT NULL REFERENCES markets (id) ON DELETE CASCADE,
    place           text        CHECK (char_length(btrim(place)) BETWEEN 1 AND 500),
    starts_at       timestamptz NOT NULL,
    ends_at         timestamptz NOT NULL,
    orders_open_at  timestamptz NOT NULL,
    orders_close_at timestamptz NOT NULL,
    series_id       uuid,
    cancelled_at    timestamptz,
    delivered_at    timestamptz,
    validated_at    timestamptz,
    validated_by    uuid        REFERENCES accounts (id) ON DELETE NO ACTION,
    created_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT distributions_ends_after_start CHECK (ends_at > starts_at),
    CONSTRAINT distributions_window_closes_after_open CHECK (orders_close_at > orders_open_at),
    CONSTRAINT distributions_window_closes_before_end CHECK (orders_close_at <= ends_at),
    CONSTRAINT distributions_validated_by_with_time CHECK (validated_by IS NULL OR validated_at IS NOT NULL),
    CONSTRAINT distributions_cancelled_not_validated CHECK (cancelled_at IS NULL OR validated_at IS NULL),
    UNIQUE (series_id, starts_at)
);
COMMENT ON TABLE distributions IS
    'One market day: place, start/end, default order window. Catalogs take part through participations. '
    'Never deleted once it has orders (cancel it: cancelled_at).';
COMMENT ON COLUMN distributions.place IS 'Overrides the market address for this day; NULL = markets.address.';
COMMENT ON COLUMN distributions.orders_open_at IS 'Default sale window; a participation may override it.';
COMMENT ON COLUMN distributions.orders_close_at IS 'Default close; never after ends_at, since settlement follows the end.';
COMMENT ON COLUMN distributions.series_id IS 'Groups a weekly series created together (edit/cancel the series). UNIQUE with starts_at.';
COMMENT ON COLUMN distributions.delivered_at IS
    'Stock settlement done: lines stamped delivered, offers.real_stock lowered. NULL = still to settle.';
COMMENT ON COLUMN distributions.validated_at IS 'The market referent validated the day; payouts are computed from here.';
CREATE INDEX distributions_market_starts ON distributions (market_id, starts_at);
-- Settlement job: distributions that ended and are not settled yet.
CREATE INDEX distributions_to_settle ON distributions (ends_at)
    WHERE delivered_at IS NULL AND cancelled_at IS NULL;

CREATE TABLE participations (
    id                uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    distribution_id   uuid        NOT NULL REFERENCES distributions (id) ON DELETE CASCADE,
    catalog_id        uuid        NOT NULL REFERENCES catalogs (id) ON DELETE CASCADE,
    orders_open_at    timestamptz,
    orders_close_at   timestamptz,
    snapshot_taken_at timestamptz,
    summary_sent_at   timestamptz,
    created_at        timestamptz NOT NULL DEFAULT now(),
    UNIQUE (distribution_id, catalog_id),
    CONSTRAINT participations_window_closes_after_open
        CHECK (orders_open_at IS NULL OR orders_close_at IS NULL OR orders_close_at > orders_open_at)
);
COMMENT ON TABLE participations IS
    'A catalog taking part in a distribution ("+ Participer"). The catalog must be linked to the market '
    '(trigger participations_catalog_linked). Withdrawing = DELETE, refused while order lines reference it.';
COMMENT ON COLUMN participations.orders_open_at IS 'Override of the distribution''s window; NULL = the distribution''s value.';
COMMENT ON COLUMN participations.orders_close_at IS 'Override of the distribution''s window; NULL = the distribution''s value.';
COMMENT ON COLUMN participations.snapshot_taken_at IS 'When prices were frozen into participation_offers (sale opening).';
COMMENT ON COLUMN participations.summary_sent_at IS 'When the closing recap was queued to the producer (sent once).';
CREATE INDEX participations_catalog ON participations (catalog_id);

CREATE TABLE participation_offers (
    participation_id uuid          NOT NULL REFERENCES participations (id) ON DELETE CASCADE,
    offer_id         uuid          NOT NULL REFERENCES offers (id) ON DELETE CASCADE,
    product_id       uuid          NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    product_name     text          NOT NULL,
    product_unit     text          NOT NULL,
    variable_price   boolean       NOT NULL,
    multi_weight     boolean       NOT NULL,
    fractional       boolean       NOT NULL,
    label            text          NOT NULL,
    quantity         numeric(12,3) NOT NULL CHECK (quantity > 0 AND quantity <> 'NaN'),
    unit             text          NOT NULL,
    price            numeric(12,2) NOT NULL CHECK (price >= 0 AND price <> 'NaN'),
    vat_rate         numeric(5,2)  NOT NULL CHECK (vat_rate BETWEEN 0 AND 100),
    position         integer       NOT NULL DEFAULT 0,
    synced_at        timestamptz   NOT NULL DEFAULT now(),
    withdrawn_at     timestamptz,
    PRIMARY KEY (participation_id, offer_id),
    CONSTRAINT participation_offers_multi_weight_implies_variable_price CHECK (NOT multi_weight OR variable_price)
);
COMMENT ON TABLE participation_offers IS
    'Frozen catalog snapshot of a participation: what the shop sells and at which price for this distribution, '
    'so customers never pay two prices in one distribution. Catalog changes reach it only at the next sale or by '
    'a forced sync (upsert). Order lines reference (participation_id, offer_id) here, so a row with orders is never deleted.';
COMMENT ON COLUMN participation_offers.price IS 'Price incl. VAT after the catalog override, frozen at snapshot/sync time.';
COMMENT ON COLUMN participation_offers.withdrawn_at IS
    'Set when a forced sync removes the offer from this open sale (e.g. product deactivated) while rows must stay '
    'for existing order lines. Shops list only rows with withdrawn_at IS NULL.';
-- "Which open sales sell this offer" (stock pushes, forced sync) and FK cascades from offers.
CREATE INDEX participation_offers_offer ON participation_offers (offer_id);
CREATE INDEX participation_offers_product ON participation_offers (product_id);

-- ---------------------------------------------------------------------------
-- Orders
-- ---------------------------------------------------------------------------

CREATE TABLE orders (
    id              uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    distribution_id uuid        NOT NULL REFERENCES distributions (id) ON DELETE NO ACTION,
    customer_id     uuid        NOT NULL REFERENCES accounts (id) ON DELETE NO ACTION,
    number          integer     NOT NULL CHECK (number > 0),
    status          text        NOT NULL DEFAULT 'confirmed' CHECK (status IN ('confirmed', 'cancelled')),
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT orders_number_unique UNIQUE (distribution_id, number)
);
COMMENT ON TABLE orders IS
    'A customer''s order in one distribution. Only committed (acknowledged) orders are stored. Modifiable by the '
    'customer until the sale closes; locking/validation is a property of the distribution.';
COMMENT ON COLUMN orders.number IS 'Basket label, allocated by the distribution actor (max + 1), unique per distribution.';
COMMENT ON COLUMN orders.status IS 'cancelled orders keep their lines for history but no longer count as ordered.';
-- One live order per customer per distribution: posting again adds lines to it.
CREATE UNIQUE INDEX orders_one_confirmed_per_customer ON orders (distribution_id, customer_id)
    WHERE status = 'confirmed';
CREATE INDEX orders_customer ON orders (customer_id, created_at);

CREATE TABLE order_lines (
    id               uuid          PRIMARY KEY DEFAULT gen_random_uuid(),
    order_id         uuid          NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    offer_id         uuid          NOT NULL,
    participation_id uuid          NOT NULL,
    quantity         numeric(12,3) NOT NULL CHECK (quantity > 0 AND quantity <> 'NaN'),
    unit_price       numeric(12,2) NOT NULL CHECK (unit_price >= 0 AND unit_price <> 'NaN'),
    vat_rate         numeric(5,2)  NOT NULL CHECK (vat_rate BETWEEN 0 AND 100),
    weight           numeric(12,3) CHECK (weight > 0 AND weight <> 'NaN'),
    final_total      numeric(12,2) CHECK (final_total >= 0 AND final_total <> 'NaN'),
    delivered_at     timestamptz,
    created_at       timestamptz   NOT NULL DEFAULT now(),
    -- Only what the participation's frozen snapshot sells can be ordered; it also
    -- keeps the snapshot row (and so the offer and participation) while lines exist.
    CONSTRAINT order_lines_offer_in_snapshot FOREIGN KEY (participation_id, offer_id)
        REFERENCES participation_offers (participation_id, offer_id) ON DELETE NO ACTION
);
COMMENT ON TABLE order_lines IS
    'Lines of an order: offer, quantity and the unit price frozen at order time. Multi-weight products get one line per unit. '
    'Lines of confirmed orders not yet delivered make up offers'' "ordered".';
COMMENT ON COLUMN order_lines.unit_price IS 'Price incl. VAT of one offer unit, frozen from the snapshot when ordered.';
COMMENT ON COLUMN order_lines.weight IS 'Real weight after weighing (variable-price products); NULL until weighed.';
COMMENT ON COLUMN order_lines.final_total IS 'Total after weighing/producer change; NULL = quantity * unit_price.';
COMMENT ON COLUMN order_lines.delivered_at IS 'Set by stock settlement after the distribution ends; delivered lines leave "ordered".';
CREATE INDEX order_lines_order ON order_lines (order_id);
-- Recaps per catalog/product and the snapshot FK's checks.
CREATE INDEX order_lines_participation_offer ON order_lines (participation_id, offer_id);
-- ordered(offer) = Σ quantity of undelivered lines of confirmed orders: an index-only scan of
-- the (small) undelivered set, joined to orders by primary key for the status.
CREATE INDEX order_lines_undelivered_by_offer ON order_lines (offer_id) INCLUDE (quantity, order_id)
    WHERE delivered_at IS NULL;

CREATE TABLE order_line_changes (
    id            bigserial     PRIMARY KEY,
    order_line_id uuid          REFERENCES order_lines (id) ON DELETE SET NULL,
    order_id      uuid          NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    offer_id      uuid          NOT NULL REFERENCES offers (id) ON DELETE NO ACTION,
    changed_by    uuid          NOT NULL REFERENCES accounts (id) ON DELETE NO ACTION,
    changed_at    timestamptz   NOT NULL DEFAULT now(),
    field         text          NOT NULL CHECK (field IN ('quantity', 'weight')),
    old_value     numeric(12,3) CHECK (old_value >= 0 AND old_value <> 'NaN'),
    new_value     numeric(12,3) NOT NULL CHECK (new_value >= 0 AND new_value <> 'NaN'),
    reason        text          CHECK (char_length(reason) <= 1000),
    CONSTRAINT order_line_changes_quantity_has_old CHECK (field <> 'quantity' OR old_value IS NOT NULL)
);
COMMENT ON TABLE order_line_changes IS
    'Audit of producer changes to order lines after the sale closed (stock problem, weighing); the customer is told. '
    'Survives the line itself: new_value 0 on quantity = line removed (order_line_id then becomes NULL).';
COMMENT ON COLUMN order_line_changes.old_value IS 'NULL only for a first weighing.';
CREATE INDEX order_line_changes_order ON order_line_changes (order_id);
CREATE INDEX order_line_changes_line ON order_line_changes (order_line_id) WHERE order_line_id IS NOT NULL;

CREATE TABLE stock_movements (
    id         bigserial     PRIMARY KEY,
    offer_id   uuid          NOT NULL REFERENCES offers (id) ON DELETE CASCADE,
    kind       text          NOT NULL CHECK (kind IN ('reserve', 'release', 'set_real', 'delivery', 'adjust')),
    quantity   numeric(12,3) NOT NULL CHECK (quantity <> 'NaN'),
    real_after numeric(12,3) CHECK (real_after >= 0 AND real_after <> 'NaN'),
    order_id   uuid          REFERENCES orders (id) ON DELETE SET NULL,
    account_id uuid          REFERENCES accounts (id) ON DELETE NO ACTION,
    created_at timestamptz   NOT NULL DEFAULT now(),
    CONSTRAINT stock_movements_sign CHECK (
        (kind = 'reserve'  AND quantity > 0) OR
        (kind = 'release'  AND quantity < 0) OR
        (kind = 'delivery' AND quantity < 0) OR
        kind IN ('set_real', 'adjust'))
);
COMMENT ON TABLE stock_movements IS
    'Append-only audit of every stock change, to explain any availability figure after the fact.';
COMMENT ON COLUMN stock_movements.quantity IS
    'Signed delta. reserve: +q to ordered; release: -q to ordered; delivery: -q to both real_stock and ordered '
    '(settlement); set_real / adjust: new real_stock - old real_stock.';
COMMENT ON COLUMN stock_movements.real_after IS 'real_stock after the movement, when it changed real_stock (set_real, adjust, delivery).';
COMMENT ON COLUMN stock_movements.account_id IS 'Who caused it (customer for reserve/release, producer member for set_real); NULL for the engine.';
CREATE INDEX stock_movements_offer ON stock_movements (offer_id, id);
CREATE INDEX stock_movements_order ON stock_movements (order_id) WHERE order_id IS NOT NULL;

-- ---------------------------------------------------------------------------
-- Money and notifications
-- ---------------------------------------------------------------------------

CREATE TABLE payouts (
    id              uuid          PRIMARY KEY DEFAULT gen_random_uuid(),
    distribution_id uuid          NOT NULL REFERENCES distributions (id) ON DELETE NO ACTION,
    producer_id     uuid          NOT NULL REFERENCES producers (id) ON DELETE NO ACTION,
    gross           numeric(12,2) NOT NULL CHECK (gross >= 0 AND gross <> 'NaN'),
    fee             numeric(12,2) NOT NULL CHECK (fee >= 0 AND fee <> 'NaN'),
    net             numeric(12,2) NOT NULL CHECK (net >= 0 AND net <> 'NaN'),
    validated_at    timestamptz   NOT NULL,
    available_on    date,
    paid_on         date,
    status          text          NOT NULL DEFAULT 'scheduled' CHECK (status IN ('scheduled', 'paid', 'offline')),
    UNIQUE (distribution_id, producer_id),
    CONSTRAINT payouts_net_is_gross_minus_fee CHECK (net = gross - fee),
    CONSTRAINT payouts_online_has_dates CHECK (status = 'offline' OR (available_on IS NOT NULL AND paid_on IS NOT NULL)),
    CONSTRAINT payouts_paid_after_available CHECK (paid_on >= available_on),
    CONSTRAINT payouts_paid_on_monday CHECK (extract(isodow FROM paid_on) = 1)
);
COMMENT ON TABLE payouts IS
    'What a producer receives for one validated distribution: gross sales minus platform fee. Money is available '
    '3 days after validation and paid on the first Monday on or after that date. Markets without online payment '
    'get status offline (settled outside the engine, no dates).';
COMMENT ON COLUMN payouts.available_on IS 'Local date of validated_at + 3 days (market timezone).';
COMMENT ON COLUMN payouts.paid_on IS 'First Monday on or after available_on.';
CREATE INDEX payouts_producer ON payouts (producer_id);
CREATE INDEX payouts_due ON payouts (paid_on) WHERE status = 'scheduled';

CREATE TABLE outbox (
    id         bigserial   PRIMARY KEY,
    kind       text        NOT NULL CHECK (char_length(kind) BETWEEN 1 AND 64),
    recipient  text        NOT NULL CHECK (char_length(recipient) BETWEEN 1 AND 320),
    subject    text        NOT NULL,
    body       text        NOT NULL,
    dedupe_key text        NOT NULL UNIQUE CHECK (char_length(dedupe_key) BETWEEN 1 AND 300),
    created_at timestamptz NOT NULL DEFAULT now(),
    sent_at    timestamptz,
    attempts   integer     NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    last_error text
);
COMMENT ON TABLE outbox IS
    'Messages to send (recaps at close, order-change notices), written in the same transaction as the change '
    'that causes them and sent afterwards. INSERT … ON CONFLICT (dedupe_key) DO NOTHING: nothing is sent twice.';
COMMENT ON COLUMN outbox.dedupe_key IS 'e.g. summary:<participation_id>, line_change:<order_line_changes.id>.';
CREATE INDEX outbox_unsent ON outbox (id) WHERE sent_at IS NULL;

-- ---------------------------------------------------------------------------
-- Cross-table integrity that foreign keys cannot express
-- ---------------------------------------------------------------------------

-- Ownership never moves: a product, VAT rate or catalog stays with its producer and an
-- offer with its product. This keeps the same-producer checks below true forever.
CREATE FUNCTION etal_forbid_reparenting() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '%.% cannot be changed', TG_TABLE_NAME, TG_ARGV[0]
        USING ERRCODE = 'integrity_constraint_violation', TABLE = TG_TABLE_NAME, COLUMN = TG_ARGV[0];
END
$$;
CREATE TRIGGER products_producer_fixed BEFORE UPDATE OF producer_id ON products
    FOR EACH ROW WHEN (OLD.producer_id IS DISTINCT FROM NEW.producer_id)
    EXECUTE FUNCTION etal_forbid_reparenting('producer_id');
CREATE TRIGGER vat_rates_producer_fixed BEFORE UPDATE OF producer_id ON vat_rates
    FOR EACH ROW WHEN (OLD.producer_id IS DISTINCT FROM NEW.producer_id)
    EXECUTE FUNCTION etal_forbid_reparenting('producer_id');
CREATE TRIGGER catalogs_producer_fixed BEFORE UPDATE OF producer_id ON catalogs
    FOR EACH ROW WHEN (OLD.producer_id IS DISTINCT FROM NEW.producer_id)
    EXECUTE FUNCTION etal_forbid_reparenting('producer_id');
CREATE TRIGGER offers_product_fixed BEFORE UPDATE OF product_id ON offers
    FOR EACH ROW WHEN (OLD.product_id IS DISTINCT FROM NEW.product_id)
    EXECUTE FUNCTION etal_forbid_reparenting('product_id');

-- An offer's VAT rate belongs to the offer's producer.
CREATE FUNCTION etal_check_offer_vat_rate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM products p JOIN vat_rates v ON v.producer_id = p.producer_id
                   WHERE p.id = NEW.product_id AND v.id = NEW.vat_rate_id) THEN
        RAISE EXCEPTION 'VAT rate % is not a rate of the producer of product %', NEW.vat_rate_id, NEW.product_id
            USING ERRCODE = 'foreign_key_violation', TABLE = 'offers', COLUMN = 'vat_rate_id',
                  CONSTRAINT = 'offers_vat_rate_same_producer';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER offers_vat_rate_same_producer BEFORE INSERT OR UPDATE OF product_id, vat_rate_id ON offers
    FOR EACH ROW EXECUTE FUNCTION etal_check_offer_vat_rate();

-- A catalog only lists its own producer's offers.
CREATE FUNCTION etal_check_catalog_entry_producer() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM catalogs c
                   JOIN products p ON p.producer_id = c.producer_id
                   JOIN offers o ON o.product_id = p.id
                   WHERE c.id = NEW.catalog_id AND o.id = NEW.offer_id) THEN
        RAISE EXCEPTION 'offer % does not belong to the producer of catalog %', NEW.offer_id, NEW.catalog_id
            USING ERRCODE = 'foreign_key_violation', TABLE = 'catalog_entries', COLUMN = 'offer_id',
                  CONSTRAINT = 'catalog_entries_same_producer';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER catalog_entries_same_producer BEFORE INSERT OR UPDATE OF catalog_id, offer_id ON catalog_entries
    FOR EACH ROW EXECUTE FUNCTION etal_check_catalog_entry_producer();

-- A catalog takes part only in distributions of markets it is linked to (checked when
-- the participation is created; unlinking later does not erase existing participations).
CREATE FUNCTION etal_check_participation_linked() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM distributions d
                   JOIN market_catalogs mc ON mc.market_id = d.market_id
                   WHERE d.id = NEW.distribution_id AND mc.catalog_id = NEW.catalog_id) THEN
        RAISE EXCEPTION 'catalog % is not linked to the market of distribution %', NEW.catalog_id, NEW.distribution_id
            USING ERRCODE = 'foreign_key_violation', TABLE = 'participations', COLUMN = 'catalog_id',
                  CONSTRAINT = 'participations_catalog_linked';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER participations_catalog_linked BEFORE INSERT OR UPDATE OF distribution_id, catalog_id ON participations
    FOR EACH ROW EXECUTE FUNCTION etal_check_participation_linked();
