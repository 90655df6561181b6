// Rendering of the producer's board: the sale picker and facts (status,
// countdown, recap downloads), the totals per product to prepare, the
// orders (new ones highlighted as they arrive) and the stock table.

import { el, formatCents, formatCountdown, formatDate, formatDay, formatHour, formatQty, toCents, toMilli } from "/assets/common.js";

const $ = (selector) => document.querySelector(selector);

/** How long an order stays marked "Nouvelle" / "Modifiée" / "Annulée". */
export const MARK_MS = 120000;

export const SALE_STATUS = { upcoming: "à venir", open: "commandes ouvertes", closed: "commandes closes" };

/** The distributions of the board's sales (several catalogs may share one). */
export function distributions(state) {
  const map = new Map();
  for (const sale of state.sales) {
    if (!map.has(sale.distribution_id)) map.set(sale.distribution_id, { id: sale.distribution_id, sales: [] });
    map.get(sale.distribution_id).sales.push(sale);
  }
  return [...map.values()];
}

/** A distribution's status: open if one of its sales is, else upcoming, else closed. */
export function distributionStatus(d) {
  const statuses = d.sales.map((s) => s.status);
  if (statuses.includes("open")) return "open";
  if (statuses.includes("upcoming")) return "upcoming";
  return "closed";
}

export function offerText(state, offerId) {
  const offer = state.offers.get(offerId);
  if (!offer) return "Produit";
  return offer.label && offer.label !== offer.product_name ? `${offer.product_name} (${offer.label})` : offer.product_name;
}

// ---------------------------------------------------------------- sale

export function renderSale(state) {
  const root = $("#vente");
  const list = distributions(state);
  if (!list.length) {
    root.replaceChildren(el("p", { class: "empty", text: "Aucune vente en cours ni à venir pour ce producteur." }));
    return;
  }
  const current = list.find((d) => d.id === state.selected) || list[0];
  const select = el("select", { id: "choix-vente", "aria-describedby": "vente-faits" },
    list.map((d) => el("option", {
      value: d.id, selected: d.id === current.id,
      text: `${d.sales[0].market.name} — ${formatDay(d.sales[0].starts_at)} (${SALE_STATUS[distributionStatus(d)]})`,
    })));
  const first = current.sales[0];
  const facts = el("div", { id: "vente-faits", class: "sale-facts" },
    el("p", { class: "sale-status", id: "statut-vente", dataset: { status: distributionStatus(current) }, text: SALE_STATUS[distributionStatus(current)] }),
    el("p", { text: `Distribution le ${formatDay(first.starts_at)} de ${formatHour(first.starts_at)} à ${formatHour(first.ends_at)}` }),
    el("p", { class: "countdown", id: "compte-a-rebours", role: "timer", "aria-atomic": "true" }));
  const windows = el("ul", { class: "windows" }, current.sales.map((s) => el("li", {
    text: `${s.catalog.name} : commandes du ${formatDate(s.orders_open_at)} au ${formatDate(s.orders_close_at)}`,
  })));
  const recaps = el("p", { class: "recap-links" },
    el("span", { text: "Récapitulatifs :" }),
    recapButton(current.id, "product", "html", "par produit (imprimable)"),
    recapButton(current.id, "customer", "html", "par client (émargement)"),
    recapButton(current.id, "product", "csv", "tableur (CSV)"));
  root.replaceChildren(
    el("p", { class: "sale-picker" }, el("label", { for: "choix-vente", text: "Vente affichée" }), select),
    facts, windows, state.recapsAvailable ? recaps : null);
  renderCountdown(state);
}

function recapButton(distributionId, view, format, label) {
  return el("button", {
    type: "button", class: "link",
    dataset: { action: "recap", distributionId, view, format },
    text: label,
  });
}

export function renderCountdown(state, now = Date.now()) {
  const node = $("#compte-a-rebours");
  if (!node) return;
  const current = distributions(state).find((d) => d.id === state.selected);
  if (!current) return;
  const open = current.sales.filter((s) => s.status === "open");
  const upcoming = current.sales.filter((s) => s.status === "upcoming");
  let text = "";
  if (open.length) {
    text = `Fermeture dans ${formatCountdown(Math.min(...open.map((s) => Date.parse(s.orders_close_at))) - now)}`;
    node.dataset.state = "open";
  } else if (upcoming.length) {
    text = `Ouverture dans ${formatCountdown(Math.min(...upcoming.map((s) => Date.parse(s.orders_open_at))) - now)}`;
    node.dataset.state = "upcoming";
  } else {
    text = "Commandes closes : place à la préparation.";
    node.dataset.state = "closed";
  }
  if (node.textContent !== text) node.textContent = text;
}

// ---------------------------------------------------------------- totals

/** Orders of the selected distribution that count (not cancelled). */
export function liveOrders(state) {
  return [...state.orders.values()].filter((o) => o.distribution_id === state.selected && !o.cancelled);
}

export function renderTotals(state, changed = new Set()) {
  const totals = new Map();
  for (const order of liveOrders(state)) {
    const seen = new Set();
    for (const line of order.lines) {
      const t = totals.get(line.offer_id) || { qty: 0, orders: 0, cents: 0 };
      t.qty += toMilli(line.quantity) || 0;
      t.cents += toCents(line.total);
      if (!seen.has(line.offer_id)) t.orders += 1;
      seen.add(line.offer_id);
      totals.set(line.offer_id, t);
    }
  }
  const root = $("#totaux");
  if (!totals.size) {
    root.replaceChildren(el("p", { class: "empty", text: "Rien à préparer pour l'instant : aucune commande." }));
    return;
  }
  const rows = [...totals].sort(([a], [b]) => offerText(state, a).localeCompare(offerText(state, b), "fr"));
  root.replaceChildren(el("table", {},
    el("caption", { class: "visually-hidden", text: "Quantités commandées par produit" }),
    el("thead", {}, el("tr", {},
      el("th", { scope: "col", text: "Produit" }),
      el("th", { scope: "col", class: "num", text: "Quantité" }),
      el("th", { scope: "col", class: "num", text: "Commandes" }),
      el("th", { scope: "col", class: "num", text: "Montant" }))),
    el("tbody", {}, rows.map(([offerId, t]) => el("tr", { class: changed.has(offerId) ? "changed" : null, dataset: { offerId } },
      el("th", { scope: "row", text: offerText(state, offerId) }),
      el("td", { class: "num", dataset: { role: "qty" }, text: formatQty(t.qty) }),
      el("td", { class: "num", text: String(t.orders) }),
      el("td", { class: "num", text: formatCents(t.cents) }))))));
}

// ---------------------------------------------------------------- orders

export function renderOrders(state, now = Date.now()) {
  const orders = [...state.orders.values()]
    .filter((o) => o.distribution_id === state.selected && (!o.cancelled || now - o.cancelled < MARK_MS))
    .sort((a, b) => b.seenAt - a.seenAt || b.number - a.number);
  $("#nombre-commandes").textContent = String(liveOrders(state).length);
  const root = $("#liste-commandes");
  if (!orders.length) {
    root.replaceChildren(el("p", { class: "empty", text: "Aucune commande pour cette vente pour l'instant." }));
    return;
  }
  root.replaceChildren(el("ul", { class: "orders" }, orders.map((o) => orderItem(state, o, now))));
}

function orderItem(state, order, now) {
  const fresh = order.fresh && now - order.fresh < MARK_MS;
  const modified = order.modified && now - order.modified < MARK_MS;
  const classes = ["order", order.cancelled ? "cancelled" : fresh ? "fresh" : modified ? "modified" : ""].join(" ").trim();
  const tag = order.cancelled
    ? el("span", { class: "tag cancelled", text: order.cancelledText || "Annulée" })
    : fresh ? el("span", { class: "tag new", text: "Nouvelle" })
      : modified ? el("span", { class: "tag modified", text: "Modifiée" }) : null;
  return el("li", { class: classes, dataset: { orderId: order.id, number: String(order.number) } },
    el("article", { "aria-label": `Commande n° ${order.number}` },
      el("p", { class: "order-head" },
        el("span", {}, `n° ${order.number} · ${order.customer?.name || "Client"}`, tag),
        el("span", { text: formatCents(toCents(order.total)) })),
      el("ul", { class: "order-lines" }, order.lines.map((l) => el("li", {
        text: `${formatQty(toMilli(l.quantity) || 0)} × ${offerText(state, l.offer_id)}`,
      })))));
}

// ---------------------------------------------------------------- stocks

export function renderStocks(state, changed = new Set()) {
  const root = $("#table-stocks");
  const rows = [...state.offers.values()].filter((o) => state.stocks.has(o.offer_id));
  if (!rows.length) {
    root.replaceChildren(el("p", { class: "empty", text: "Aucune offre." }));
    return;
  }
  root.replaceChildren(el("table", {},
    el("caption", { class: "visually-hidden", text: "Stock de chaque offre" }),
    el("thead", {}, el("tr", {},
      el("th", { scope: "col", text: "Offre" }),
      el("th", { scope: "col", class: "num", text: "Stock" }),
      el("th", { scope: "col", class: "num", text: "Commandé" }),
      el("th", { scope: "col", class: "num", text: "Disponible" }))),
    el("tbody", {}, rows.map((o) => stockRow(state, o, changed.has(o.offer_id))))));
}

function stockRow(state, offer, changed) {
  const s = state.stocks.get(offer.offer_id);
  const available = toMilli(s.available);
  const tracked = s.tracked !== false;
  const availableCell = !tracked
    ? el("td", { class: "num", text: "illimité" })
    : el("td", {
      class: `num ${available !== null && available <= 0 ? "stock-out" : available !== null && available <= 5000 ? "stock-low" : ""}`.trim(),
      dataset: { role: "available" },
      text: available === null ? "—" : available < 0 ? `manque ${formatQty(-available)}` : available === 0 ? "épuisé" : formatQty(available),
    });
  return el("tr", { class: changed ? "changed" : null, dataset: { offerId: offer.offer_id } },
    el("th", { scope: "row", text: offerText(state, offer.offer_id) }),
    el("td", { class: "num", text: tracked ? formatQty(toMilli(s.real) ?? 0) : "—" }),
    el("td", { class: "num", text: formatQty(toMilli(s.ordered) ?? 0) }),
    availableCell);
}
