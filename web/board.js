// The producer's live board (/board/{producer_id}): signs the member in,
// loads GET /api/v1/producers/{id}/board (sales, offers, orders) and
// /producers/{id}/stocks, then follows /ws/producers/{id}: orders appear
// (highlighted) as they are committed, totals to prepare and stocks update
// in place. After a lost connection it reloads, so nothing is missed.

import { askToSignIn, renderAccount, signOut } from "/assets/auth.js";
import {
  Live, announce, api, clearSession, commonProblem, el, formatQty, getSession, idFromPath,
  setTimeZone, showLiveState, toMilli,
} from "/assets/common.js";
import {
  MARK_MS, distributionStatus, distributions, offerText, renderCountdown, renderOrders, renderSale, renderStocks,
  renderTotals,
} from "/assets/board-view.js";

const $ = (selector) => document.querySelector(selector);
const producerId = idFromPath();

const state = {
  session: getSession(),
  producer: null,
  sales: [],
  offers: new Map(),
  /** order id → {…order, seenAt, fresh?, modified?, cancelled?} */
  orders: new Map(),
  stocks: new Map(),
  selected: null,
  recapsAvailable: false,
  loaded: false,
  live: null,
  /** live frames received before the first load finished */
  pending: [],
  everLive: false,
};

function message(kind, text) {
  const node = $("#message");
  node.hidden = !text;
  node.dataset.kind = kind;
  node.setAttribute("role", kind === "error" ? "alert" : "status");
  node.textContent = text || "";
}

function renderAccountArea() {
  renderAccount($("#compte"), state.session, {
    onSignIn: () => signIn(),
    onSignOut: async () => {
      await signOut();
      state.session = null;
      state.live?.close();
      state.live = null;
      location.reload();
    },
  });
}

function renderAll(changedTotals = new Set(), changedStocks = new Set()) {
  // Times in the zone of the market shown.
  setTimeZone(state.sales.find((s) => s.distribution_id === state.selected)?.market?.timezone);
  $("#titre").textContent = state.producer ? state.producer.name : "Tableau de bord";
  document.title = `${state.producer?.name || "Producteur"} — tableau de bord`;
  $("#tableau").hidden = false;
  renderSale(state);
  renderTotals(state, changedTotals);
  renderOrders(state);
  renderStocks(state, changedStocks);
  document.body.dataset.ready = "true";
}

// ---------------------------------------------------------------- loading

function normaliseOrder(o) {
  const lines = (o.lines || []).map((l) => ({ offer_id: l.offer_id, quantity: l.quantity, total: l.total ?? "0" }));
  return {
    id: o.id ?? o.order_id,
    number: o.number,
    distribution_id: o.distribution_id,
    customer: o.customer ?? { id: o.customer_id, name: o.customer_name ?? "" },
    lines,
    total: o.total ?? "0",
  };
}

async function load() {
  const [board, stocks, openapi] = await Promise.all([
    api("GET", `/api/v1/producers/${producerId}/board`),
    api("GET", `/api/v1/producers/${producerId}/stocks`),
    state.loaded ? Promise.resolve(null) : api("GET", "/api/v1/openapi.json", undefined, { token: null }),
  ]);
  if (!board.ok) {
    if (board.status === 401) {
      clearSession();
      state.session = null;
      renderAccountArea();
      message("error", "Votre session a expiré : reconnectez-vous.");
      return signIn();
    }
    message("error", board.status === 403
      ? "Ce compte n'a pas accès à cet espace producteur. Connectez-vous avec le compte d'un membre du producteur."
      : board.status === 404 ? "Ce producteur n'existe pas." : commonProblem(board));
    return false;
  }
  if (openapi?.ok) state.recapsAvailable = Boolean(openapi.body?.paths?.["/api/v1/distributions/{id}/recap"]);
  state.producer = board.body.producer;
  state.sales = board.body.sales;
  state.offers = new Map(board.body.offers.map((o) => [o.offer_id, o]));
  const previous = state.orders;
  state.orders = new Map();
  for (const raw of board.body.orders) {
    const order = normaliseOrder(raw);
    const before = previous.get(order.id);
    order.seenAt = before?.seenAt ?? Date.parse(raw.updated_at);
    order.fresh = before?.fresh;
    order.modified = before?.modified;
    state.orders.set(order.id, order);
  }
  for (const [id, before] of previous) if (before.cancelled && !state.orders.has(id)) state.orders.set(id, before);
  if (stocks.ok) state.stocks = new Map(stocks.body.map((s) => [s.offer_id, s]));
  const list = distributions(state);
  if (!list.some((d) => d.id === state.selected)) {
    state.selected = (list.find((d) => distributionStatus(d) === "open") || list[0])?.id ?? null;
  }
  state.loaded = true;
  message("info", "");
  renderAll();
  for (const frame of state.pending.splice(0)) onLive(frame);
  return true;
}

async function signIn() {
  const session = await askToSignIn("Le tableau de bord est réservé aux membres du producteur.");
  if (!session) {
    if (!state.session) message("info", "Connectez-vous pour voir les commandes et les stocks en direct.");
    return false;
  }
  state.session = session;
  renderAccountArea();
  start();
  return true;
}

// ---------------------------------------------------------------- live

function onLive(frame) {
  if (!state.loaded) {
    state.pending.push(frame);
    return;
  }
  switch (frame.type) {
    case "order_placed":
    case "order_modified":
    case "order_cancelled":
      onOrder(frame.type, normaliseOrder(frame.order || {}));
      break;
    case "stock": {
      const before = state.stocks.get(frame.offer_id) || { tracked: true };
      const next = { ...before, offer_id: frame.offer_id, real: frame.real, ordered: frame.ordered, available: frame.available };
      if ("tracked" in frame) next.tracked = frame.tracked;
      state.stocks.set(frame.offer_id, next);
      renderStocks(state, new Set([frame.offer_id]));
      const left = toMilli(frame.available);
      if (next.tracked !== false && left !== null && left <= 0) announce(`${offerText(state, frame.offer_id)} : épuisé.`);
      break;
    }
    default:
      break;
  }
}

let reloadTimer = null;

function onOrder(type, order) {
  if (!order.id) return;
  if (!state.sales.some((s) => s.distribution_id === order.distribution_id)) {
    // A sale this page did not know (joined since): read the board again.
    clearTimeout(reloadTimer);
    reloadTimer = setTimeout(load, 300);
  }
  const before = state.orders.get(order.id);
  const now = Date.now();
  if (type === "order_cancelled" || (type === "order_modified" && !order.lines.length)) {
    // Cancelled, or changed so that none of this producer's lines remain.
    if (!before) return;
    before.cancelled = now;
    before.cancelledText = type === "order_cancelled" ? "Annulée" : "Plus aucun de vos produits";
    before.seenAt = now;
    announce(`Commande n° ${before.number} : ${before.cancelledText.toLowerCase()}.`);
  } else {
    order.seenAt = now;
    if (type === "order_placed" && !before) order.fresh = now;
    else {
      order.fresh = before?.fresh;
      order.modified = now;
    }
    state.orders.set(order.id, order);
    const count = order.lines.reduce((n, l) => n + (toMilli(l.quantity) || 0), 0);
    announce(`${type === "order_placed" && !before ? "Nouvelle commande" : "Commande modifiée"} n° ${order.number}`
      + `${order.customer?.name ? ` de ${order.customer.name}` : ""} : ${formatQty(count)} article${count > 1000 ? "s" : ""}.`);
  }
  if (order.distribution_id === state.selected || before?.distribution_id === state.selected) {
    const changed = new Set([...(before?.lines || []), ...order.lines].map((l) => l.offer_id));
    renderTotals(state, changed);
    renderOrders(state);
  }
}

function onLiveState(liveState) {
  showLiveState($("#direct"), liveState);
  if (liveState === "live") {
    // Anything committed while disconnected is read again.
    if (state.everLive && state.loaded) load();
    state.everLive = true;
  }
}

// ---------------------------------------------------------------- recaps

async function openRecap(button) {
  const { distributionId, view, format } = button.dataset;
  const query = new URLSearchParams({ producer_id: producerId, view, format });
  button.disabled = true;
  const response = await fetch(`/api/v1/distributions/${distributionId}/recap?${query}`, {
    headers: { Authorization: `Bearer ${state.session?.token || ""}` },
  }).catch(() => null);
  button.disabled = false;
  if (!response || !response.ok) {
    message("error", response?.status === 403 ? "Ce compte ne peut pas voir ce récapitulatif." : "Le récapitulatif n'a pas pu être obtenu : réessayez.");
    return;
  }
  const url = URL.createObjectURL(format === "csv" ? await response.blob() : printable(await response.text()));
  if (format === "csv") {
    const a = el("a", { href: url, download: `recapitulatif-${view}.csv` });
    document.body.append(a);
    a.click();
    a.remove();
  } else {
    window.open(url, "_blank", "noopener");
  }
  setTimeout(() => URL.revokeObjectURL(url), 60000);
}

/**
 * The recap's HTML, opened from memory (so the token never goes into a
 * URL): a blob document keeps this page's Content-Security-Policy, which
 * refuses inline <style>, so its styles become a blob stylesheet (allowed:
 * `style-src 'self' blob:`) and any script is dropped.
 */
function printable(html) {
  const doc = new DOMParser().parseFromString(html, "text/html");
  for (const style of doc.querySelectorAll("style")) {
    const link = doc.createElement("link");
    link.rel = "stylesheet";
    link.href = URL.createObjectURL(new Blob([style.textContent], { type: "text/css" }));
    style.replaceWith(link);
  }
  for (const script of doc.querySelectorAll("script")) script.remove();
  return new Blob([`<!doctype html>\n${doc.documentElement.outerHTML}`], { type: "text/html" });
}

// ---------------------------------------------------------------- wiring

document.addEventListener("change", (event) => {
  if (event.target.id === "choix-vente") {
    state.selected = event.target.value;
    renderAll();
    $("#choix-vente")?.focus();
  }
});

document.addEventListener("click", (event) => {
  const button = event.target.closest("button[data-action]");
  if (button?.dataset.action === "recap") openRecap(button);
});

setInterval(() => {
  if (!state.loaded) return;
  const now = Date.now();
  let changed = false;
  for (const s of state.sales) {
    const next = s.status === "upcoming" && now >= Date.parse(s.orders_open_at) ? "open"
      : s.status === "open" && now >= Date.parse(s.orders_close_at) ? "closed" : s.status;
    if (next !== s.status) {
      s.status = next;
      changed = true;
    }
  }
  if (changed) renderSale(state);
  else renderCountdown(state, now);
  // Marks fade: re-render the list once a mark expires.
  for (const o of state.orders.values()) {
    const marked = Math.max(o.fresh || 0, o.modified || 0, o.cancelled || 0);
    if (marked && now - marked >= MARK_MS && now - marked < MARK_MS + 1000) {
      renderOrders(state, now);
      break;
    }
  }
}, 250);

function start() {
  const token = state.session?.token;
  if (!token) return;
  state.live?.close();
  state.everLive = false;
  state.live = new Live(`/ws/producers/${producerId}?token=${encodeURIComponent(token)}`, {
    onMessage: onLive,
    onState: onLiveState,
  });
  load();
}

renderAccountArea();
if (state.session) start();
else {
  showLiveState($("#direct"), "signed-out");
  signIn();
}
