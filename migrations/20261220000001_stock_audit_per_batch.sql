-- The order writer's stock audit: one row per offer per committed batch.
--
-- Until now every committed order change wrote one `reserve`/`release` row per
-- offer it moved, with three foreign-key checks each: under a rush, a batch of
-- 32 orders on one hot offer wrote 32 audit rows (≈ 1.7 ms of the batch's
-- ≈ 6 ms). The writer now writes, in the same transaction as the orders, one
-- `orders` row per offer it moved: `quantity` is the net change of the offer's
-- "ordered" over the batch (its reserves and releases summed, possibly 0) and
-- `order_ids` the batch's orders that moved it (their lines, the per-customer
-- truth, say by how much each). Rows written before stay as they are: the sum
-- of an offer's movements means the same thing for both shapes.
--
-- The table keeps its foreign key to offers (one check per offer and batch now)
-- and stays the one audit of stock: the producers' changes (`set_real`), the
-- deliveries (`delivery`) and the producers' after-sale line changes
-- (`reserve`/`release`, with the line's order and the producer member) are
-- still written one by one.

ALTER TABLE stock_movements ADD COLUMN order_ids uuid[];

ALTER TABLE stock_movements DROP CONSTRAINT stock_movements_kind_check;
ALTER TABLE stock_movements ADD CONSTRAINT stock_movements_kind_check
    CHECK (kind IN ('reserve', 'release', 'set_real', 'delivery', 'adjust', 'orders'));

ALTER TABLE stock_movements DROP CONSTRAINT stock_movements_sign;
ALTER TABLE stock_movements ADD CONSTRAINT stock_movements_sign CHECK (
    (kind = 'reserve'  AND quantity > 0) OR
    (kind = 'release'  AND quantity < 0) OR
    (kind = 'delivery' AND quantity < 0) OR
    kind IN ('set_real', 'adjust', 'orders'));

-- A batch row names its orders; no other row has a list.
ALTER TABLE stock_movements ADD CONSTRAINT stock_movements_batch_traced CHECK (
    CASE WHEN kind = 'orders'
         THEN order_ids IS NOT NULL AND cardinality(order_ids) >= 1 AND order_id IS NULL
         ELSE order_ids IS NULL END);

COMMENT ON TABLE stock_movements IS
    'Append-only audit of every stock change, to explain any availability figure after the fact. '
    'For every offer: sum(quantity) over reserve, release, orders and delivery = ordered (undelivered '
    'confirmed lines); sum(quantity) over set_real, adjust and delivery = real_stock.';
COMMENT ON COLUMN stock_movements.kind IS
    'orders: one row per offer per batch committed by the order writer (net change of ordered); '
    'reserve / release: a producer''s change of an order line after the sale (and, before 2026-12, each '
    'order change); set_real / adjust: a producer''s stock change; delivery: settlement after the distribution.';
COMMENT ON COLUMN stock_movements.quantity IS
    'Signed delta. orders: the batch''s reserves and releases of the offer summed (+ to ordered, may be 0); '
    'reserve: +q to ordered; release: -q to ordered; delivery: -q to both real_stock and ordered '
    '(settlement); set_real / adjust: new real_stock - old real_stock.';
COMMENT ON COLUMN stock_movements.order_ids IS
    'orders rows only: the orders of the batch that moved this offer (their lines give each one''s share).';
