-- The fair waiting room: a market admin marks a distribution's sale as
-- popular (Christmas poultry, the first strawberries), and customers then
-- enter it through a waiting room drawn at the opening. Tickets live in the
-- engine's memory only; the mark survives restarts.

ALTER TABLE distributions ADD COLUMN popular boolean NOT NULL DEFAULT false;
COMMENT ON COLUMN distributions.popular IS
    'Marked popular by a market admin: its sale opens through the waiting room (also without the mark when '
    'enough customers wait at the opening, admission.threshold).';
