// The shop page's waiting room (a popular sale opens through one): where
// the room stands (from the shop document, then the WebSocket's
// `admission` messages), the customer's ticket (kept per distribution and
// account in sessionStorage), joining the line, its live place and wait,
// and the `Admission-Ticket` header every call that takes stock carries.
// The panel is rebuilt only when its state changes; its numbers are
// updated in place, and announced when the customer's turn comes.

import { announce, api, el, formatCountdown, formatDate } from "/assets/common.js";
import { distributionId, state } from "/assets/shop-state.js";

const $ = (selector) => document.querySelector(selector);

export const room = {
  /** {active, drawn, admitted, waiting, rate_per_s} or null (no waiting room) */
  status: null,
  /** the customer's ticket: {ticket, position, admitted, estimated_wait_s, expired} */
  ticket: null,
  joining: false,
};

function ticketKey() {
  return `etal.file.${distributionId}.${state.session?.account_id ?? ""}`;
}

/** Takes in the room's standing (shop document or live message). */
export function applyRoom(status) {
  room.status = status || null;
}

/** Whether calls that take stock need an admitted ticket now. */
export function roomActive() {
  return Boolean(room.status?.active);
}

/** Headers for a call that takes stock. */
export function ticketHeaders() {
  return room.ticket?.ticket ? { "Admission-Ticket": room.ticket.ticket } : {};
}

/** Whether the customer's ticket lets them in (or no room stands in the way). */
export function admitted() {
  if (!roomActive()) return true;
  const t = room.ticket;
  if (!t || t.expired || t.position == null) return false;
  return t.admitted || room.status.admitted >= t.position;
}

function remember(ticket) {
  room.ticket = ticket;
  try {
    if (ticket) sessionStorage.setItem(ticketKey(), JSON.stringify(ticket.ticket));
    else sessionStorage.removeItem(ticketKey());
  } catch (_) {
    /* storage refused: the ticket lives in the page */
  }
}

/** Finds the ticket kept for this distribution and account again. */
export async function loadTicket() {
  room.ticket = null;
  if (!state.session) return;
  let id = null;
  try {
    id = JSON.parse(sessionStorage.getItem(ticketKey()) || "null");
  } catch (_) {
    id = null;
  }
  if (id) await refreshTicket(id);
}

/** Reads a ticket's standing from the server (forgotten if unknown). */
export async function refreshTicket(id = room.ticket?.ticket) {
  if (!id || !state.session) return;
  const answer = await api("GET", `/api/v1/distributions/${distributionId}/admission/${id}`);
  if (answer.ok) remember(answer.body);
  else if (answer.status === 404) remember(null);
}

/** Joins the line (or finds one's ticket again). */
export async function joinRoom() {
  if (!state.session || room.joining) return false;
  room.joining = true;
  const answer = await api("POST", `/api/v1/distributions/${distributionId}/admission`, {});
  room.joining = false;
  if (answer.ok) {
    remember(answer.body);
    return true;
  }
  return false;
}

/** A wait in plain French: "4 s", "2 min", "1 h 05". */
function waitText(seconds) {
  if (seconds < 60) return `${Math.max(1, seconds)} s`;
  if (seconds < 3600) return `${Math.round(seconds / 60)} min`;
  return formatCountdown(seconds * 1000).replace(/:\d\d$/, "").replace(":", " h ");
}

/** What the panel shows: its mode, and the numbers of the moment. */
function panelState() {
  if (!roomActive()) return { mode: "none" };
  if (!state.session) return { mode: "signed-out" };
  const t = room.ticket;
  if (!t) return { mode: "out" };
  if (t.expired) return { mode: "expired" };
  if (admitted()) return { mode: "in" };
  if (t.position == null || !room.status.drawn) return { mode: "draw" };
  // Places still to admit up to hers, and the people before her.
  const toGo = Math.max(1, t.position - room.status.admitted);
  const rate = room.status.rate_per_s || 1;
  return { mode: "line", position: t.position, ahead: toGo - 1, wait: Math.ceil(toGo / rate) };
}

/** The waiting room's panel (hidden when the sale has none). */
export function renderRoom() {
  const node = $("#salle-attente");
  if (!node) return;
  const view = panelState();
  if (node.dataset.mode !== view.mode) {
    const before = node.dataset.mode;
    node.dataset.mode = view.mode;
    node.hidden = view.mode === "none";
    node.replaceChildren(...panel(view.mode));
    if (view.mode === "in" && (before === "line" || before === "draw")) {
      announce("C'est votre tour : vous pouvez remplir votre panier et commander.");
    }
  }
  const place = node.querySelector('[data-role="place"]');
  if (place) place.textContent = String(view.position);
  const ahead = node.querySelector('[data-role="ahead"]');
  if (ahead) {
    ahead.textContent = view.ahead === 0
      ? "vous êtes la prochaine personne à entrer"
      : `${view.ahead} personne${view.ahead > 1 ? "s" : ""} avant vous`;
  }
  const wait = node.querySelector('[data-role="wait"]');
  if (wait) wait.textContent = waitText(view.wait);
}

function panel(mode) {
  const title = el("h2", { class: "room-title", text: "Salle d'attente" });
  const opening = [...state.catalogs.values()].map((c) => c.orders_open_at).sort()[0];
  switch (mode) {
    case "signed-out":
      return [title, el("p", { text: "Cette vente est très demandée : on y entre par une file d'attente. Connectez-vous pour prendre place." })];
    case "out":
      return [title,
        el("p", { text: "Cette vente est très demandée : on y entre par une file d'attente. Les clients présents avant l'ouverture sont tirés au sort, les suivants passent dans l'ordre d'arrivée." }),
        el("button", { type: "button", class: "primary", dataset: { action: "join", focusKey: "join" }, text: "Prendre place dans la file" })];
    case "draw":
      return [title, el("p", { text: `Vous êtes dans la file. Le tirage au sort aura lieu à l'ouverture${opening ? `, le ${formatDate(opening)}` : ""} : votre place s'affichera ici.` })];
    case "line":
      return [title,
        el("p", { role: "timer", "aria-atomic": "true" },
          "Vous êtes n° ", el("strong", { dataset: { role: "place" } }), " dans la file (",
          el("span", { dataset: { role: "ahead" } }), ") : environ ", el("strong", { dataset: { role: "wait" } }),
          " d'attente."),
        el("p", { class: "hint", text: "Gardez cette page ouverte : votre tour viendra tout seul." })];
    case "in":
      return [el("p", { class: "room-in", text: "C'est votre tour : vous pouvez remplir votre panier et commander." })];
    case "expired":
      return [title,
        el("p", { text: "Votre passage a expiré faute d'activité : reprenez place dans la file." }),
        el("button", { type: "button", class: "primary", dataset: { action: "join", focusKey: "join" }, text: "Reprendre place dans la file" })];
    default:
      return [];
  }
}
