// Rendering of the shop page from its state: products grouped by producer
// then category, each with its live availability badge and add button; the
// basket with its steppers, warnings and order buttons; the countdown; the
// message area. Buttons carry `data-action` (handled by shop.js through
// event delegation: no inline handlers) and `data-focus-key` (focus is put
// back on the same control after a re-render).

import { el, formatCents, formatCountdown, formatDate, formatDay, formatHour, formatQty, lineCents, toCents } from "/assets/common.js";
import {
  LOW_STOCK, UNIT, basketChanged, cancelled, heldOf, holdLines, isOpen, maxFor, offerName, orderedOf, state,
} from "/assets/shop-state.js";

const $ = (selector) => document.querySelector(selector);

function unitText(unit, milli) {
  if (unit === "piece" || unit === "pièce") return milli === UNIT ? "pièce" : "pièces";
  return unit;
}

/** "Sac · 10 kg"; just the label when it already says the quantity. */
function packText(offer) {
  const q = toMilliSafe(offer.quantity);
  const qty = `${formatQty(q)} ${unitText(offer.unit, q)}`;
  const label = offer.label && offer.label !== offer.product.name ? offer.label : "";
  if (!label) return qty;
  const flat = (text) => text.toLowerCase().replace(/\s+/g, " ");
  const single = q === UNIT && unitText(offer.unit, q) === "pièce";
  return single || flat(label).includes(flat(qty)) ? label : `${label} · ${qty}`;
}

function toMilliSafe(value) {
  const m = /^(\d+)(?:\.(\d+))?$/.exec(String(value ?? ""));
  return m ? Number(m[1]) * 1000 + Number((m[2] || "").padEnd(3, "0").slice(0, 3)) : UNIT;
}

/** The badge of an offer: [text, state] or null for unlimited stock. */
export function availabilityBadge(offer) {
  if (offer.available === null) return null;
  if (offer.available <= 0) return ["épuisé", "out"];
  if (offer.available <= LOW_STOCK) return [`plus que ${formatQty(offer.available)}`, "low"];
  return [`${formatQty(offer.available)} disponibles`, "ok"];
}

function catalogStatusText(catalog) {
  if (cancelled()) return "Distribution annulée";
  switch (catalog.status) {
    case "upcoming":
      return `Commandes à partir du ${formatDate(catalog.orders_open_at)}`;
    case "open":
      return `Commandes ouvertes jusqu'au ${formatDate(catalog.orders_close_at)}`;
    default:
      return "Commandes closes";
  }
}

// ---------------------------------------------------------------- products

export function renderIntro() {
  const d = state.distribution;
  if (!d) return;
  const where = state.market ? state.market.name : "Distribution";
  $("#titre").textContent = where;
  document.title = `${where} — boutique`;
  const place = state.market?.place?.address ? ` · ${state.market.place.address}` : "";
  $("#quand").textContent =
    `Distribution le ${formatDay(d.starts_at)}, de ${formatHour(d.starts_at)} à ${formatHour(d.ends_at)}${place}`;
}

export function renderProducts() {
  const root = $("#produits");
  root.setAttribute("aria-busy", "false");
  const heading = root.querySelector("h2");
  root.replaceChildren(heading);
  if (state.missing) {
    root.append(el("p", { class: "empty", text: "Cette distribution n'existe pas ou n'est plus en ligne." }));
    return;
  }
  const sections = [];
  for (const catalog of state.catalogs.values()) {
    const offers = state.offerOrder
      .map((id) => state.offers.get(id))
      .filter((o) => o.catalog_id === catalog.catalog_id);
    if (!offers.length) continue;
    const byCategory = new Map();
    for (const offer of offers) {
      const category = state.details.get(offer.product.id)?.category || "Autres produits";
      if (!byCategory.has(category)) byCategory.set(category, []);
      byCategory.get(category).push(offer);
    }
    const categories = [...byCategory].sort(([a], [b]) => a.localeCompare(b, "fr"));
    const titleId = `producteur-${catalog.catalog_id}`;
    sections.push(el("section", { class: "producer", "aria-labelledby": titleId, dataset: { catalogId: catalog.catalog_id } },
      el("header", { class: "producer-head" },
        el("h2", { id: titleId, text: catalog.producer.name }),
        catalog.name && catalog.name !== catalog.producer.name ? el("p", { class: "catalog-name", text: catalog.name }) : null,
        el("p", { class: "sale-status", dataset: { status: cancelled() ? "cancelled" : catalog.status }, text: catalogStatusText(catalog) })),
      categories.map(([category, list]) => el("section", { class: "category" },
        el("h3", { text: category }),
        el("ul", { class: "offers" }, list.map(offerCard))))));
  }
  if (!sections.length) {
    root.append(el("p", { class: "empty", text: "Aucun produit n'est proposé pour cette distribution." }));
    return;
  }
  root.append(...sections);
}

/** The product's photo (an https address; the page's policy allows no other). */
function photo(url, name) {
  if (!url || !/^https:\/\//i.test(url.trim())) return null;
  return el("img", { class: "offer-photo", src: url.trim(), alt: name, loading: "lazy", decoding: "async" });
}

/** Units a price per kilogram or per litre is shown for, with their size in it. */
const REFERENCE_UNITS = {
  kg: ["kg", 1], g: ["kg", 0.001], l: ["l", 1], cl: ["l", 0.01], ml: ["l", 0.001],
};

/**
 * "soit 2,00 € le kg": the price per kilogram or litre French shops must
 * show for goods sold by a fixed weight or volume (a 10 kg sack, a 75 cl
 * bottle); none when the offer already is 1 kg or 1 l, or is weighed.
 */
export function referencePrice(offer) {
  const unit = REFERENCE_UNITS[String(offer.unit || "").trim().toLowerCase()];
  if (!unit || offer.product.variable_price) return null;
  const milli = toMilliSafe(offer.quantity);
  const [base, size] = unit;
  const inBase = (milli / UNIT) * size;
  if (!(inBase > 0) || Math.abs(inBase - 1) < 1e-9) return null;
  const cents = Math.round(toCents(offer.price) / inBase);
  return el("p", { class: "offer-ref", text: `soit ${formatCents(cents)} le ${base === "l" ? "litre" : "kg"}` });
}

function offerCard(offer) {
  const details = state.details.get(offer.product.id) || {};
  const titleId = `offre-${offer.offer_id}`;
  const card = el("li", { class: "offer", dataset: { offerId: offer.offer_id } },
    el("article", { "aria-labelledby": titleId },
      el("h4", { id: titleId, class: "offer-name" },
        offer.product.name,
        details.organic ? el("span", { class: "organic", title: "Agriculture biologique", text: "bio" }) : null),
      photo(details.photo_url, offer.product.name),
      el("p", { class: "offer-pack", text: packText(offer) }),
      details.description ? el("p", { class: "offer-desc", text: details.description }) : null,
      el("p", { class: "offer-price" },
        el("strong", { text: formatCents(toCents(offer.price)) }),
        offer.product.variable_price ? el("span", { class: "note", text: " prix estimé, ajusté à la pesée" }) : null),
      referencePrice(offer),
      el("div", { class: "offer-foot" },
        el("p", { class: "badge", dataset: { role: "availability" } }),
        el("button", {
          type: "button", class: "add",
          dataset: { action: "add", offerId: offer.offer_id, focusKey: `add-${offer.offer_id}` },
          text: "Ajouter",
        })),
      el("p", { class: "in-basket", dataset: { role: "in-basket" } })));
  updateOfferCard(offer, card);
  return card;
}

/** Refreshes one offer's badge and button in place (live updates). */
export function updateOfferCard(offer, card = null) {
  const node = card || document.querySelector(`li.offer[data-offer-id="${offer.offer_id}"]`);
  if (!node) return;
  const badge = node.querySelector('[data-role="availability"]');
  const shown = availabilityBadge(offer);
  badge.hidden = !shown;
  if (shown) {
    badge.textContent = shown[0];
    badge.dataset.state = shown[1];
  }
  node.dataset.state = shown ? shown[1] : "ok";
  const inBasket = state.basket.get(offer.offer_id) || 0;
  const button = node.querySelector("button.add");
  const open = isOpen(offer);
  const full = inBasket + UNIT > maxFor(offer);
  button.disabled = !open || full || state.busy;
  const name = offerName(offer);
  button.setAttribute("aria-label", !open
    ? `${name} : pas en vente en ce moment`
    : full
      ? `${name} : ${offer.available <= 0 && !orderedOf(offer.offer_id) ? "épuisé" : "plus de stock disponible"}`
      : `Ajouter ${name} au panier`);
  button.textContent = !open ? (cancelled() || state.catalogs.get(offer.catalog_id)?.status === "closed" ? "Vente close" : "Bientôt") : "Ajouter";
  const note = node.querySelector('[data-role="in-basket"]');
  note.textContent = inBasket ? `${formatQty(inBasket)} dans ${state.myOrder ? "votre commande" : "le panier"}` : "";
  note.hidden = !inBasket;
}

export function updateAllOffers() {
  for (const offer of state.offers.values()) updateOfferCard(offer);
}

// ---------------------------------------------------------------- basket

function stepper(offer, id, qty) {
  const name = offerName(offer || id);
  const canAdd = offer && isOpen(offer) && qty + UNIT <= maxFor(offer) && !state.busy;
  const canChange = offer && isOpen(offer) && !state.busy;
  return el("div", { class: "stepper", role: "group", "aria-label": `Quantité de ${name}` },
    el("button", {
      type: "button", class: "step", "aria-label": `Retirer un ${name}`, disabled: !canChange,
      dataset: { action: "less", offerId: id, focusKey: `less-${id}` }, text: "−",
    }),
    el("output", { class: "qty", "aria-label": `${formatQty(qty)} ${name}`, text: formatQty(qty) }),
    el("button", {
      type: "button", class: "step", "aria-label": `Ajouter un ${name}`, disabled: !canAdd,
      dataset: { action: "more", offerId: id, focusKey: `more-${id}` }, text: "+",
    }));
}

function basketLine(id, qty) {
  const offer = state.offers.get(id);
  const price = offer ? toCents(offer.price) : 0;
  const warnings = [];
  if (offer && offer.available !== null && qty > maxFor(offer)) {
    const left = maxFor(offer);
    warnings.push(left <= 0 ? "Épuisé entre-temps" : `Plus que ${formatQty(left)} disponible${left > UNIT ? "s" : ""}`);
  }
  const held = heldOf(id);
  const reserved = held > 0 ? `${formatQty(held)} réservé${held > UNIT ? "s" : ""} pour vous` : null;
  if (offer && !isOpen(offer) && qty !== orderedOf(id)) {
    const status = state.catalogs.get(offer.catalog_id)?.status;
    warnings.push(status === "upcoming" ? "Vente pas encore ouverte" : "Vente close : ne peut plus changer");
  }
  return el("li", { class: "line", dataset: { offerId: id, warning: warnings.length ? "yes" : "no" } },
    el("p", { class: "line-name", text: offerName(offer || id) }),
    el("div", { class: "line-controls" },
      stepper(offer, id, qty),
      el("p", { class: "line-total", text: formatCents(lineCents(price, qty)) })),
    reserved ? el("p", { class: "line-held", dataset: { role: "held" }, text: reserved }) : null,
    warnings.length ? el("p", { class: "line-warning", text: warnings.join(" · ") }) : null);
}

export function renderBasket() {
  const root = $("#panier-contenu");
  const lines = [...state.basket].filter(([, q]) => q > 0);
  const order = state.myOrder;
  $("#panier-titre").textContent = order ? "Ma commande" : "Mon panier";
  const parts = [];
  if (order) {
    parts.push(el("p", { class: "order-ref" },
      el("strong", { text: `Ma commande n° ${order.number}` }),
      ` · enregistrée : ${formatCents(toCents(order.total))}`));
  }
  if (!lines.length) {
    parts.push(el("p", { class: "empty", text: order ? "Votre panier est vide." : "Votre panier est vide. Choisissez des produits avec « Ajouter »." }));
  } else {
    parts.push(el("ul", { class: "lines", "aria-label": "Produits du panier" }, lines.map(([id, q]) => basketLine(id, q))));
    const total = lines.reduce((sum, [id, q]) => sum + lineCents(toCents(state.offers.get(id)?.price), q), 0);
    parts.push(el("p", { class: "total" }, "Total : ", el("strong", { text: formatCents(total) })));
  }
  parts.push(...orderButtons(lines.length));
  root.replaceChildren(...parts);
  renderBasketBar(lines);
}

function orderButtons(lineCount) {
  const order = state.myOrder;
  const anyOpen = [...state.catalogs.values()].some((c) => c.status === "open") && !cancelled();
  const blocked = [...state.basket].some(([id, q]) => {
    const offer = state.offers.get(id);
    return q > 0 && offer && !isOpen(offer) && q !== orderedOf(id);
  });
  const buttons = [];
  if (!order) {
    const can = lineCount > 0 && anyOpen && !blocked && !state.busy;
    buttons.push(el("button", {
      type: "button", class: "primary wide", id: "commander", disabled: !can,
      dataset: { action: "order", focusKey: "order" }, "aria-busy": state.busy ? "true" : null,
      text: state.busy ? "Envoi…" : state.session ? "Commander" : "Se connecter pour commander",
    }));
    if (!anyOpen && lineCount) buttons.push(el("p", { class: "hint", text: "Vous pourrez commander dès l'ouverture des commandes." }));
  } else if (!anyOpen) {
    buttons.push(el("p", { class: "hint", text: "Les commandes sont closes : votre commande ne peut plus changer." }));
  } else {
    const changed = basketChanged();
    const can = changed && lineCount > 0 && anyOpen && !blocked && !state.busy;
    buttons.push(el("button", {
      type: "button", class: "primary wide", id: "enregistrer", disabled: !can,
      dataset: { action: "save", focusKey: "save" }, "aria-busy": state.busy ? "true" : null,
      text: state.busy ? "Envoi…" : changed ? "Enregistrer les modifications" : "Aucune modification",
    }));
    if (changed && lineCount === 0) buttons.push(el("p", { class: "hint", text: "Pour tout retirer, annulez la commande." }));
    buttons.push(el("button", {
      type: "button", class: "secondary wide danger", id: "annuler", disabled: state.busy,
      dataset: { action: "cancel", focusKey: "cancel" },
      text: state.confirmCancel ? "Confirmer l'annulation de la commande" : "Annuler ma commande",
    }));
  }
  return buttons;
}

/** Whether the basket panel is on screen (then the bar is not needed). */
let basketInView = false;
if ("IntersectionObserver" in window) {
  new IntersectionObserver((entries) => {
    basketInView = entries.some((e) => e.isIntersecting);
    const bar = $("#barre-panier");
    if (bar && basketInView) bar.hidden = true;
    else if (bar) bar.hidden = !bar.textContent || !state.basket.size;
  }).observe($("#panier"));
}

function renderBasketBar(lines) {
  const bar = $("#barre-panier");
  const count = lines.reduce((n, [, q]) => n + q, 0);
  bar.hidden = !count || basketInView;
  const total = lines.reduce((sum, [id, q]) => sum + lineCents(toCents(state.offers.get(id)?.price), q), 0);
  bar.textContent = `Panier : ${formatQty(count)} article${count > UNIT ? "s" : ""} · ${formatCents(total)} — voir`;
}

// ---------------------------------------------------------------- holds

/** What the hold line shows: "held" (with a countdown), "expired", "signed-out" or "none". */
function holdMode(now) {
  const wanted = holdLines().length > 0;
  if (!state.session) return wanted ? "signed-out" : "none";
  if (state.heldUntil !== null && now < state.heldUntil && [...state.held.values()].some((q) => q > 0)) return "held";
  if (state.heldUntil === null && state.heldOnce && wanted) return "expired";
  return "none";
}

/**
 * The basket's reservation: how long it is still held (a countdown on this
 * browser's clock), or that it ran out (with a button to hold it again), or
 * that signing in would hold it. Rebuilt only when its mode changes, so the
 * button keeps its focus; the countdown's text is updated in place.
 */
export function renderHold(now = Date.now()) {
  const node = $("#reservation");
  if (!node) return;
  if (state.heldUntil !== null) state.heldOnce = true;
  const mode = holdMode(now);
  if (node.dataset.mode !== mode) {
    node.dataset.mode = mode;
    node.hidden = mode === "none";
    if (mode === "held") {
      node.replaceChildren(el("p", { role: "timer", "aria-atomic": "true" },
        "Votre panier vous est réservé encore ", el("strong", { dataset: { role: "hold-left" } }), "."));
    } else if (mode === "expired") {
      node.replaceChildren(
        el("p", { text: "La réservation de votre panier a expiré : ses produits ne vous sont plus garantis." }),
        el("button", { type: "button", class: "secondary", dataset: { action: "hold", focusKey: "hold" }, text: "Réserver à nouveau" }));
    } else if (mode === "signed-out") {
      node.replaceChildren(el("p", { text: "Connectez-vous : votre panier vous sera réservé quelques minutes." }));
    } else {
      node.replaceChildren();
    }
  }
  const left = node.querySelector('[data-role="hold-left"]');
  if (left) {
    const text = formatCountdown(state.heldUntil - now).replace(/^00:/, "");
    if (left.textContent !== text) left.textContent = text;
  }
}

// ---------------------------------------------------------------- status

/** The countdown line; returns its state for tests and styles. */
export function renderCountdown(now = Date.now()) {
  const node = $("#compte-a-rebours");
  const catalogs = [...state.catalogs.values()];
  let text;
  let mode;
  if (!state.distribution) return;
  if (cancelled()) {
    [text, mode] = ["Cette distribution a été annulée.", "cancelled"];
  } else if (catalogs.some((c) => c.status === "open")) {
    const closes = Math.min(...catalogs.filter((c) => c.status === "open").map((c) => Date.parse(c.orders_close_at)));
    [text, mode] = [`Fermeture des commandes dans ${formatCountdown(closes - now)}`, "open"];
  } else if (catalogs.some((c) => c.status === "upcoming")) {
    const opens = Math.min(...catalogs.filter((c) => c.status === "upcoming").map((c) => Date.parse(c.orders_open_at)));
    [text, mode] = [`Ouverture des commandes dans ${formatCountdown(opens - now)}`, "upcoming"];
  } else {
    [text, mode] = ["Les commandes sont closes.", "closed"];
  }
  if (node.textContent !== text) node.textContent = text;
  node.dataset.state = mode;
}

/** Shows a message in the basket: kind "success", "error" or "info". */
export function showMessage(kind, title, items = [], after = "") {
  const node = $("#message");
  node.hidden = false;
  node.dataset.kind = kind;
  node.setAttribute("role", kind === "error" ? "alert" : "status");
  node.replaceChildren(
    el("p", { class: "notice-title", text: title }),
    items.length ? el("ul", {}, items.map((t) => el("li", { text: t }))) : null,
    after ? el("p", { text: after }) : null,
    el("button", { type: "button", class: "link close", dataset: { action: "dismiss" }, "aria-label": "Fermer le message", text: "Fermer" }));
}

export function hideMessage() {
  const node = $("#message");
  node.hidden = true;
  node.replaceChildren();
}
