// The shop page's state and the rules on it: what is on sale and how much
// is left, the sale status of each producer's catalog, the customer's
// confirmed order and the basket (the whole order the customer wants; when
// an order exists the basket starts from it). The basket is kept in
// localStorage per distribution, so a reload or a refusal never loses it.
// For a signed-in customer, what the basket wants beyond the order is held
// on the server (PUT …/cart) for a while: `held` and `heldUntil`.

import { getSession, idFromPath, milliToString, toMilli } from "/assets/common.js";

export const distributionId = idFromPath();
const BASKET_KEY = `etal.panier.${distributionId}`;

/** One unit, in thousandths (baskets move by whole units). */
export const UNIT = 1000;
/** From this many units down, the badge says "plus que N". */
export const LOW_STOCK = 5 * UNIT;

export const state = {
  loaded: false,
  missing: false,
  distribution: null,
  market: null,
  /** catalog id → {catalog_id, name, producer, orders_open_at, orders_close_at, status} */
  catalogs: new Map(),
  /** offer id → shop offer, with `available` in thousandths (null = unlimited) */
  offers: new Map(),
  /** offer ids in the shop's order */
  offerOrder: [],
  /** product id → {category, organic, description, photo_url} */
  details: new Map(),
  session: getSession(),
  /** the customer's confirmed order (OrderView) or null */
  myOrder: null,
  /** offer id → wanted quantity in thousandths */
  basket: new Map(),
  /** signature of the order the basket started from (null: no order) */
  basketBase: null,
  busy: false,
  /** "Annuler ma commande" was pressed once: the next press confirms */
  confirmCancel: false,
  /** the Idempotency-Key of an order attempt, kept for retries of the same basket */
  pendingKey: null,
  /** offer id → what the server holds for this basket (thousandths) */
  held: new Map(),
  /** when those holds run out (ms since the epoch), or null */
  heldUntil: null,
  /** a hold request is on its way; another is wanted after it */
  holding: false,
  holdAgain: false,
  /** the basket was held at some point on this page (so running out is news) */
  heldOnce: false,
};

/** Takes in a shop document (HTTP answer or WebSocket snapshot). */
export function applyShop(doc) {
  state.distribution = doc.distribution;
  state.catalogs = new Map();
  for (const c of doc.catalogs || []) state.catalogs.set(c.catalog_id, { ...c });
  // The server's status, moved forward if this clock already passed an
  // opening or closing instant (the timer would do it a moment later).
  advanceStatuses();
  state.offers = new Map();
  state.offerOrder = [];
  for (const o of doc.offers || []) {
    state.offers.set(o.offer_id, { ...o, available: toMilli(o.available) });
    state.offerOrder.push(o.offer_id);
  }
}

/**
 * Moves sale statuses forward on this browser's clock (opening and closing
 * instants). Returns true when one changed.
 */
export function advanceStatuses(now = Date.now()) {
  let changed = false;
  for (const c of state.catalogs.values()) {
    let next = c.status;
    if (next === "upcoming" && now >= Date.parse(c.orders_open_at)) next = "open";
    if (next === "open" && now >= Date.parse(c.orders_close_at)) next = "closed";
    if (next !== c.status) {
      c.status = next;
      changed = true;
    }
  }
  return changed;
}

/** Sets a catalog's status from the server (sale_opened / sale_closed). */
export function setCatalogStatus(catalogId, status) {
  const c = state.catalogs.get(catalogId);
  if (!c || c.status === status) return false;
  c.status = status;
  return true;
}

export function cancelled() {
  return Boolean(state.distribution?.cancelled);
}

/** Whether the offer's catalog takes orders now. */
export function isOpen(offer) {
  return !cancelled() && state.catalogs.get(offer?.catalog_id)?.status === "open";
}

/** Quantity of an offer in the confirmed order (thousandths). */
export function orderedOf(offerId) {
  let total = 0;
  for (const line of state.myOrder?.lines || []) {
    if (line.offer_id === offerId) total += toMilli(line.quantity) || 0;
  }
  return total;
}

/** What the server holds of an offer for this basket (thousandths). */
export function heldOf(offerId) {
  return state.heldUntil === null ? 0 : state.held.get(offerId) || 0;
}

/**
 * The most the basket may hold of an offer (Infinity when unlimited): what
 * is ordered, what is held for it, and what is left for everyone.
 */
export function maxFor(offer) {
  if (!offer || offer.available === null) return Infinity;
  return orderedOf(offer.offer_id) + heldOf(offer.offer_id) + Math.max(0, offer.available);
}

/** What to hold: for each offer open now, what the basket wants beyond the order. */
export function holdLines() {
  const lines = [];
  for (const [id, q] of state.basket) {
    const extra = q - orderedOf(id);
    if (extra > 0 && isOpen(state.offers.get(id))) {
      lines.push({ offer_id: id, quantity: milliToString(extra) });
    }
  }
  return lines;
}

/** Takes in a basket document (PUT or GET …/cart). */
export function applyCart(doc) {
  state.held = new Map();
  for (const line of doc?.lines || []) state.held.set(line.offer_id, toMilli(line.held) || 0);
  state.heldUntil = doc?.expires_at ? Date.parse(doc.expires_at) : null;
}

/** Forgets the holds (signed out, or they ran out). */
export function forgetHolds() {
  state.held = new Map();
  state.heldUntil = null;
}

/** The confirmed order's quantities by offer. */
export function orderQuantities() {
  const map = new Map();
  for (const line of state.myOrder?.lines || []) {
    map.set(line.offer_id, (map.get(line.offer_id) || 0) + (toMilli(line.quantity) || 0));
  }
  return map;
}

/** A comparable text for a set of quantities. */
export function signature(quantities) {
  return [...quantities]
    .filter(([, q]) => q > 0)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([id, q]) => `${id}:${q}`)
    .join(",");
}

/** Whether the basket differs from the confirmed order. */
export function basketChanged() {
  return signature(state.basket) !== signature(orderQuantities());
}

export function saveBasket() {
  try {
    localStorage.setItem(BASKET_KEY, JSON.stringify({
      lines: Object.fromEntries([...state.basket].filter(([, q]) => q > 0)),
      base: state.basketBase,
      account: state.session?.account_id ?? null,
    }));
  } catch (_) {
    /* storage full or refused: the basket still lives in the page */
  }
}

function savedBasket() {
  try {
    const saved = JSON.parse(localStorage.getItem(BASKET_KEY) || "null");
    if (!saved || typeof saved.lines !== "object") return null;
    const lines = new Map();
    for (const [id, q] of Object.entries(saved.lines)) {
      if (Number.isInteger(q) && q > 0) lines.set(id, q);
    }
    return { lines, base: saved.base ?? null, account: saved.account ?? null };
  } catch (_) {
    return null;
  }
}

/**
 * Sets the basket once the order is known. Returns "merged" when a basket
 * filled before signing in was added to an order found on the server.
 */
export function reconcileBasket() {
  const saved = savedBasket();
  const fromOrder = orderQuantities();
  const orderSig = state.myOrder ? signature(fromOrder) : null;
  let outcome = "kept";
  const foreign = saved && saved.account && saved.account !== state.session?.account_id;
  if (!saved || foreign) {
    state.basket = fromOrder;
  } else if (!state.myOrder) {
    state.basket = saved.lines;
  } else if (saved.base === null) {
    // Filled while signed out (or before any order): add it to the order.
    state.basket = fromOrder;
    for (const [id, q] of saved.lines) state.basket.set(id, (state.basket.get(id) || 0) + q);
    if (saved.lines.size) outcome = "merged";
  } else if (saved.base === orderSig) {
    state.basket = saved.lines; // edits of this very order, not saved yet
  } else {
    state.basket = fromOrder; // the order changed elsewhere since
  }
  // Offers no longer on sale leave the basket (unless ordered).
  for (const id of [...state.basket.keys()]) {
    if (!state.offers.has(id) && !fromOrder.has(id)) state.basket.delete(id);
  }
  state.basketBase = orderSig;
  saveBasket();
  return outcome;
}

/** After the server confirmed an order: the basket is the order. */
export function setOrder(order) {
  state.myOrder = order;
  state.basket = orderQuantities();
  state.basketBase = order ? signature(state.basket) : null;
  state.pendingKey = null;
  saveBasket();
}

/** Product name and offer label, for messages. */
export function offerName(offerOrId) {
  const offer = typeof offerOrId === "string" ? state.offers.get(offerOrId) : offerOrId;
  if (!offer) return "un produit retiré de la vente";
  // "Poulet fermier — Poulet entier (env. 1,8 kg)": a dash, so a label
  // that has brackets of its own is not put inside another pair.
  const label = offer.label && offer.label !== offer.product.name ? ` — ${offer.label}` : "";
  return offer.product.name + label;
}

/** The catalog (producer) an offer belongs to. */
export function catalogOf(offerId) {
  return state.catalogs.get(state.offers.get(offerId)?.catalog_id);
}
