// The shop of a distribution (/shop/{distribution_id}): loads the shop
// document, the products' categories and the customer's own order, follows
// /ws/distributions/{id} (snapshot, availability, sale_opened/sale_closed),
// ticks the countdown on this browser's clock, holds the basket for a
// signed-in customer (PUT …/cart after each change, one request at a time;
// what could not be held is explained and the basket brought down to it; a
// countdown shows how long it is held), and places, changes or cancels the
// customer's order (which consumes the holds). Refusals are explained in
// plain French and the basket is corrected, never emptied.

import { askToSignIn, renderAccount, signOut } from "/assets/auth.js";
import {
  Live, announce, api, clearSession, commonProblem, formatCents, formatDate, formatQty,
  keepFocus, milliToString, randomKey, setTimeZone, showLiveState, toCents, toMilli,
} from "/assets/common.js";
import {
  UNIT, advanceStatuses, applyCart, applyShop, catalogOf, distributionId, forgetHolds, holdLines, isOpen,
  maxFor, offerName, orderedOf, orderQuantities, reconcileBasket, saveBasket, setCatalogStatus, setOrder,
  signature, state,
} from "/assets/shop-state.js";
import {
  availabilityBadge, hideMessage, renderBasket, renderCountdown, renderHold, renderIntro, renderProducts,
  showMessage, updateAllOffers, updateOfferCard,
} from "/assets/shop-view.js";

const $ = (selector) => document.querySelector(selector);

function renderAll() {
  keepFocus(() => {
    renderIntro();
    renderProducts();
    renderBasket();
    renderCountdown();
  });
  document.body.dataset.ready = "true";
}

function refreshBasket() {
  keepFocus(() => {
    renderBasket();
    updateAllOffers();
    renderHold();
  });
}

function renderAccountArea() {
  renderAccount($("#compte"), state.session, {
    onSignIn: async () => {
      const session = await askToSignIn();
      if (session) await afterSignIn(session);
    },
    onSignOut: async () => {
      // What the basket held goes back to everyone before the token does.
      if (state.heldUntil !== null) await api("DELETE", cartPath());
      forgetHolds();
      state.heldOnce = false;
      await signOut();
      state.session = null;
      state.myOrder = null;
      state.basket = new Map();
      state.basketBase = null;
      saveBasket();
      hideMessage();
      renderAccountArea();
      refreshBasket();
    },
  });
}

// ---------------------------------------------------------------- loading

async function loadMyOrder() {
  if (!state.session) {
    state.myOrder = null;
    return true;
  }
  const answer = await api("GET", `/api/v1/distributions/${distributionId}/orders/mine`);
  if (answer.ok) state.myOrder = answer.body;
  else if (answer.status === 404) state.myOrder = null;
  else if (answer.status === 401) {
    clearSession();
    state.session = null;
    state.myOrder = null;
  } else return false;
  return true;
}

/** Signed in: the order and the basket's holds are read; with `hold`, the basket is held. */
async function afterSignIn(session, { hold = true } = {}) {
  state.session = session;
  renderAccountArea();
  await loadMyOrder();
  const outcome = reconcileBasket();
  await loadCart();
  if (hold) scheduleHold();
  refreshBasket();
  if (outcome === "merged") {
    showMessage("info", `Nous avons retrouvé votre commande n° ${state.myOrder.number}.`, [],
      "Les produits de votre panier y ont été ajoutés : vérifiez, puis enregistrez les modifications.");
  }
  return outcome;
}

async function load() {
  const [shop, products] = await Promise.all([
    api("GET", `/api/v1/distributions/${distributionId}/shop`, undefined, { token: null }),
    api("GET", `/api/v1/distributions/${distributionId}/shop/products`, undefined, { token: null }),
  ]);
  if (!shop.ok) {
    state.missing = shop.status === 404;
    renderProducts();
    if (state.missing) document.body.dataset.ready = "true";
    else showMessage("error", commonProblem(shop), [], "Nouvel essai dans quelques secondes…");
    return false;
  }
  applyShop(shop.body);
  for (const p of products.ok ? products.body : []) state.details.set(p.id, p);
  const market = await api("GET", `/api/v1/markets/${shop.body.distribution.market_id}`, undefined, { token: null });
  if (market.ok) {
    state.market = market.body;
    setTimeZone(market.body.timezone);
  }
  if (state.session) {
    const me = await api("GET", "/api/v1/accounts/me");
    if (me.status === 401) {
      clearSession();
      state.session = null;
    }
  }
  await loadMyOrder();
  reconcileBasket();
  await loadCart();
  state.loaded = true;
  renderAccountArea();
  renderAll();
  scheduleHold();
  return true;
}

// ---------------------------------------------------------------- holds

function cartPath() {
  return `/api/v1/distributions/${distributionId}/cart`;
}

/** What the server holds for this basket (nothing when signed out). */
async function loadCart() {
  if (!state.session) {
    forgetHolds();
    return;
  }
  const answer = await api("GET", cartPath());
  if (answer.ok) applyCart(answer.body);
}

let holdTimer = null;

/** Holds the basket shortly (changes in quick succession make one request). */
function scheduleHold() {
  if (!state.session) return;
  clearTimeout(holdTimer);
  holdTimer = setTimeout(syncHold, 150);
}

/** Sends the basket to hold; one request at a time, the latest basket last. */
async function syncHold() {
  if (!state.session || !state.loaded) return;
  if (state.holding || state.busy) {
    state.holdAgain = true;
    return;
  }
  const lines = holdLines();
  if (!lines.length && state.heldUntil === null) return;
  state.holding = true;
  const answer = await api("PUT", cartPath(), { lines });
  state.holding = false;
  heldAnswer(answer);
  if (state.holdAgain) {
    state.holdAgain = false;
    scheduleHold();
  }
}

/** Takes in a hold's answer: what could not be held leaves the basket, explained. */
function heldAnswer(answer) {
  if (answer.ok) {
    applyCart(answer.body);
    const short = [];
    for (const line of answer.body.lines) {
      const wanted = toMilli(line.quantity) || 0;
      const got = Math.floor((toMilli(line.held) || 0) / UNIT) * UNIT;
      if (got >= wanted || !state.basket.has(line.offer_id)) continue;
      const before = state.basket.get(line.offer_id);
      const allowed = orderedOf(line.offer_id) + got;
      if (allowed > 0) state.basket.set(line.offer_id, allowed);
      else state.basket.delete(line.offer_id);
      const name = offerName(line.offer_id);
      short.push(allowed > 0
        ? `${name} : d'autres clients ont pris le reste, ${formatQty(got)} vous ${got > UNIT ? "sont réservés" : "est réservé"} — quantité ramenée de ${formatQty(before)} à ${formatQty(allowed)}.`
        : `${name} : plus aucun disponible, retiré du panier.`);
    }
    if (short.length) {
      saveBasket();
      const rest = [...state.basket].some(([id, q]) => q > orderedOf(id));
      showMessage("error", "Une partie de votre panier n'a pas pu vous être réservée.", short,
        rest ? "Le reste vous est réservé : commandez avant la fin du décompte." : "");
      scheduleHold(); // the server's basket follows the corrected one
    }
  } else if (answer.status === 409 && answer.body?.code === "order_in_progress") {
    state.holdAgain = true;
  } else if (answer.status === 401) {
    clearSession();
    state.session = null;
    forgetHolds();
    renderAccountArea();
  }
  // Other refusals (a sale closed or not open yet) are explained when ordering.
  refreshBasket();
}

/** The holds ran out on this browser's clock: they are gone on the server too. */
function holdsRanOut() {
  forgetHolds();
  refreshBasket();
  announce("La réservation de votre panier a expiré : ses produits ne vous sont plus garantis.");
}

// ---------------------------------------------------------------- live

function onLive(message) {
  if (!state.loaded) return;
  switch (message.type) {
    case "snapshot":
      applyShop(message.shop || message);
      renderAll();
      break;
    case "availability":
      // Every offer of this shop that changed since the previous push.
      for (const change of message.offers || []) applyAvailability(change);
      break;
    case "sale_opened":
    case "sale_closed": {
      const status = message.type === "sale_opened" ? "open" : "closed";
      if (setCatalogStatus(message.catalog_id, status)) {
        if (status === "closed" && $("#message").dataset.kind === "success") hideMessage();
        renderAll();
        const producer = state.catalogs.get(message.catalog_id)?.producer?.name || "ce producteur";
        announce(status === "open" ? `Les commandes sont ouvertes pour ${producer}.` : `Les commandes sont closes pour ${producer}.`);
      }
      break;
    }
    default:
      break;
  }
}

/** One offer's new availability from a push: its card, the basket, a word for screen readers. */
function applyAvailability(change) {
  const offer = state.offers.get(change.offer_id);
  if (!offer) return;
  const before = offer.available;
  offer.available = toMilli(change.available);
  if (before === offer.available) return;
  updateOfferCard(offer);
  if (state.basket.has(offer.offer_id)) refreshBasket();
  const badge = availabilityBadge(offer);
  if (badge && (badge[1] !== "ok" || state.basket.has(offer.offer_id))) {
    announce(`${offerName(offer)} : ${badge[0]}.`);
  }
}

// ---------------------------------------------------------------- basket

function changeQty(offerId, delta) {
  const offer = state.offers.get(offerId);
  const now = state.basket.get(offerId) || 0;
  let next = now + delta;
  if (delta > 0 && (!offer || !isOpen(offer) || next > maxFor(offer))) return;
  if (next <= 0) next = 0;
  if (next) state.basket.set(offerId, next);
  else state.basket.delete(offerId);
  state.confirmCancel = false;
  saveBasket();
  refreshBasket();
  scheduleHold();
  if (delta > 0 && now === 0) announce(`${offerName(offer)} ajouté au panier.`);
}

function basketLines() {
  return [...state.basket]
    .filter(([, q]) => q > 0)
    .map(([offer_id, q]) => ({ offer_id, quantity: milliToString(q) }));
}

function setBusy(busy) {
  state.busy = busy;
  refreshBasket();
}

async function submit() {
  if (state.busy) return;
  hideMessage();
  if (!state.session) {
    const session = await askToSignIn("Connectez-vous ou créez un compte pour passer commande.");
    if (!session) return;
    const outcome = await afterSignIn(session, { hold: false });
    if (outcome === "merged" || state.myOrder) {
      scheduleHold();
      return; // let them check first
    }
  }
  const lines = basketLines();
  if (!lines.length) return;
  const creating = !state.myOrder;
  clearTimeout(holdTimer);
  setBusy(true);
  let answer;
  if (creating) {
    const sig = signature(state.basket);
    if (state.pendingKey?.sig !== sig) state.pendingKey = { sig, key: randomKey() };
    answer = await api("POST", `/api/v1/distributions/${distributionId}/orders`, { lines },
      { headers: { "Idempotency-Key": state.pendingKey.key } });
  } else {
    answer = await api("PATCH", `/api/v1/orders/${state.myOrder.id}`, { lines });
  }
  state.busy = false;
  // The order consumed what was held; a refused one left the holds as they were.
  await loadCart();
  scheduleHold();
  if (answer.ok) {
    setOrder(answer.body);
    refreshBasket();
    const closes = earliestClose();
    showMessage("success",
      creating
        ? `Merci ! Votre commande n° ${answer.body.number} est enregistrée.`
        : `Votre commande n° ${answer.body.number} a été modifiée.`,
      [`Total : ${formatCents(toCents(answer.body.total))}`],
      closes ? `Vous pouvez la modifier ou l'annuler jusqu'au ${formatDate(closes)}.` : "");
    $("#message").focus();
    return;
  }
  await refused(answer);
}

function earliestClose() {
  const open = [...state.catalogs.values()].filter((c) => c.status === "open").map((c) => c.orders_close_at);
  return open.sort()[0] || null;
}

async function cancelOrder() {
  if (!state.myOrder || state.busy) return;
  if (!state.confirmCancel) {
    state.confirmCancel = true;
    refreshBasket();
    announce("Appuyez une seconde fois pour confirmer l'annulation.");
    return;
  }
  state.confirmCancel = false;
  const number = state.myOrder.number;
  setBusy(true);
  const answer = await api("DELETE", `/api/v1/orders/${state.myOrder.id}`);
  state.busy = false;
  if (answer.ok) {
    setOrder(null);
    scheduleHold();
    refreshBasket();
    showMessage("success", `Votre commande n° ${number} est annulée.`);
    $("#message").focus();
    return;
  }
  await refused(answer);
}

// ---------------------------------------------------------------- refusals

/** Explains a refusal and corrects the basket (nothing was recorded). */
async function refused(answer) {
  const body = answer.body || {};
  const after = "Votre panier a été corrigé : vérifiez-le, puis validez à nouveau.";
  switch (body.code) {
    case "insufficient_stock": {
      const items = [];
      for (const shortage of body.offers || []) {
        const offer = state.offers.get(shortage.offer_id);
        const left = Math.max(0, toMilli(shortage.available) ?? 0);
        if (offer && offer.available !== null) offer.available = left;
        const before = state.basket.get(shortage.offer_id) || 0;
        const allowed = Math.min(before, orderedOf(shortage.offer_id) + Math.floor(left / UNIT) * UNIT);
        if (allowed > 0) state.basket.set(shortage.offer_id, allowed);
        else state.basket.delete(shortage.offer_id);
        const name = offerName(offer || shortage.offer_id);
        items.push(allowed > 0
          ? `${name} : il n'en reste que ${formatQty(allowed)} pour vous, quantité ramenée de ${formatQty(before)} à ${formatQty(allowed)}.`
          : `${name} : épuisé, retiré du panier.`);
      }
      saveBasket();
      showMessage("error", "Votre commande n'a pas été enregistrée : le stock a changé entre-temps.", items, after);
      break;
    }
    case "sale_closed": {
      const catalog = catalogOf(body.offer_id);
      if (catalog) setCatalogStatus(catalog.catalog_id, "closed");
      resetClosedLines();
      showMessage("error",
        `Les commandes sont closes${catalog ? ` pour ${catalog.producer.name}` : ""} : ses produits ne peuvent plus être commandés ni modifiés.`,
        [], state.basket.size ? after : "");
      renderAll();
      break;
    }
    case "sale_not_open": {
      const catalog = catalogOf(body.offer_id);
      const when = body.opens_at ? ` (ouverture le ${formatDate(body.opens_at)})` : "";
      showMessage("error", `La vente${catalog ? ` de ${catalog.producer.name}` : ""} n'est pas encore ouverte${when}.`, [],
        "Votre panier est conservé : validez-le dès l'ouverture.");
      break;
    }
    case "distribution_cancelled":
      if (state.distribution) state.distribution.cancelled = true;
      showMessage("error", "Cette distribution a été annulée : aucune commande n'est plus possible.");
      renderAll();
      break;
    case "order_in_progress":
      showMessage("error", "Une autre modification de votre commande est en cours d'enregistrement.", [],
        "Rien n'a changé ici : réessayez dans un instant.");
      break;
    case "order_cancelled":
    case "not_found":
      await loadMyOrder();
      state.basketBase = null;
      saveBasket();
      showMessage("error", "Votre commande a été annulée entre-temps.", [],
        "Votre panier est conservé : validez-le pour commander à nouveau.");
      break;
    case "invalid_field":
      showMessage("error", "Une quantité n'est pas valable pour ce produit.", [body.detail || ""].filter(Boolean), after);
      break;
    default:
      if (answer.status === 401) {
        clearSession();
        state.session = null;
        renderAccountArea();
        showMessage("error", "Votre session a expiré : reconnectez-vous, votre panier est conservé.");
      } else {
        showMessage("error", commonProblem(answer), [], "Votre panier est conservé.");
      }
  }
  refreshBasket();
  $("#message").focus();
}

/** Lines of catalogs that no longer take orders go back to what was ordered. */
function resetClosedLines() {
  const ordered = orderQuantities();
  for (const id of new Set([...state.basket.keys(), ...ordered.keys()])) {
    const offer = state.offers.get(id);
    if (offer && isOpen(offer)) continue;
    const q = ordered.get(id) || 0;
    if (q) state.basket.set(id, q);
    else state.basket.delete(id);
  }
  saveBasket();
}

// ---------------------------------------------------------------- wiring

document.addEventListener("click", (event) => {
  const button = event.target.closest("button[data-action]");
  if (!button || button.disabled) return;
  const id = button.dataset.offerId;
  switch (button.dataset.action) {
    case "add":
    case "more":
      changeQty(id, UNIT);
      break;
    case "less":
      changeQty(id, -UNIT);
      break;
    case "order":
    case "save":
      submit();
      break;
    case "cancel":
      cancelOrder();
      break;
    case "hold":
      syncHold();
      break;
    case "dismiss":
      hideMessage();
      break;
    default:
      break;
  }
});

// Another tab changed the basket of this distribution.
window.addEventListener("storage", (event) => {
  if (event.key === `etal.panier.${distributionId}` && state.loaded && !state.busy) {
    reconcileBasket();
    refreshBasket();
  }
});

setInterval(() => {
  if (!state.loaded) return;
  if (state.heldUntil !== null && Date.now() >= state.heldUntil) holdsRanOut();
  else renderHold();
  if (advanceStatuses()) {
    // A confirmation saying "until closing" is stale once closed.
    if ($("#message").dataset.kind === "success") hideMessage();
    renderAll();
    announce("Le statut de la vente a changé.");
  } else {
    renderCountdown();
  }
}, 250);

/** Loads the shop (again every few seconds while the server cannot answer), then goes live. */
async function boot() {
  const ok = await load();
  if (!ok) {
    if (!state.missing) setTimeout(boot, 3000);
    return;
  }
  hideMessage();
  new Live(`/ws/distributions/${distributionId}`, {
    onMessage: onLive,
    onState: (s) => showLiveState($("#direct"), s),
  });
}

showLiveState($("#direct"), "connecting");
boot();
