-- The web application's producer space: uploaded images, the producer's
-- profile (logo, portrait, short presentation) and legal information
-- (changed by a platform admin only), and platform admins.

CREATE TABLE images (
    id           uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    producer_id  uuid        NOT NULL REFERENCES producers (id) ON DELETE CASCADE,
    kind         text        NOT NULL CHECK (kind IN ('product', 'logo', 'portrait')),
    content_type text        NOT NULL CHECK (content_type IN ('image/jpeg', 'image/png')),
    width        integer     NOT NULL CHECK (width BETWEEN 1 AND 10000),
    height       integer     NOT NULL CHECK (height BETWEEN 1 AND 10000),
    display      bytea       NOT NULL CHECK (octet_length(display) BETWEEN 1 AND 4194304),
    thumbnail    bytea       NOT NULL CHECK (octet_length(thumbnail) BETWEEN 1 AND 1048576),
    created_at   timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE images IS
    'Photos and logos uploaded through the web pages, already checked, decoded and re-encoded (no metadata kept): '
    'a display size (1200 px at most) and a thumbnail (320 px). Immutable: a new upload is a new row, served at '
    '/images/{id}/affichage and /images/{id}/vignette with a long cache.';
CREATE INDEX images_producer ON images (producer_id);

ALTER TABLE producers
    ADD COLUMN short_description text CHECK (char_length(short_description) <= 300),
    ADD COLUMN logo_image_id     uuid REFERENCES images (id) ON DELETE SET NULL,
    ADD COLUMN portrait_image_id uuid REFERENCES images (id) ON DELETE SET NULL,
    ADD COLUMN legal_name        text CHECK (char_length(btrim(legal_name)) BETWEEN 1 AND 200),
    ADD COLUMN siret             text CHECK (siret ~ '^[0-9]{14}$'),
    ADD COLUMN legal_address     text CHECK (char_length(btrim(legal_address)) BETWEEN 1 AND 500),
    ADD COLUMN vat_number        text CHECK (vat_number ~ '^[A-Z]{2}[0-9A-Z]{2,13}$');
COMMENT ON COLUMN producers.short_description IS 'One or two sentences for the page vitrine and the directory.';
COMMENT ON COLUMN producers.siret IS 'Legal information: set by a platform admin only (read-only to the producer).';

CREATE TABLE platform_admins (
    account_id uuid        PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
    added_at   timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE platform_admins IS
    'Accounts that run the platform: they change producers'' legal information. Granted with `etal admin grant EMAIL`.';
