// Shared by the shop and the producer's board: calls to the API, the
// session (token in localStorage or sessionStorage), French formatting of
// money, quantities, dates and countdowns (integer arithmetic, no floats
// for money), a reconnecting WebSocket and screen-reader announcements.
// The sign-in dialog is in auth.js. No framework, nothing from the network.

const SESSION_KEY = "etal.session";

/** Builds an element: el("p", {class: "x", text: "…"}, child, …). */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else if (key === "dataset") Object.assign(node.dataset, value);
    else if (key === "on") for (const [ev, fn] of Object.entries(value)) node.addEventListener(ev, fn);
    else if (value === true) node.setAttribute(key, "");
    else node.setAttribute(key, String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

/** The last path segment of the page's URL (the distribution or producer id). */
export function idFromPath() {
  const parts = location.pathname.split("/").filter(Boolean);
  return parts[parts.length - 1] || "";
}

// ---------------------------------------------------------------- numbers

/** A decimal string ("2.5", "12.50") as an integer count of thousandths. */
export function toMilli(value) {
  if (value === null || value === undefined) return null;
  const m = /^(-?)(\d+)(?:\.(\d+))?$/.exec(String(value).trim());
  if (!m) return null;
  const whole = Number(m[2]) * 1000 + Number((m[3] || "").padEnd(3, "0").slice(0, 3));
  return m[1] ? -whole : whole;
}

/** Thousandths back to a decimal string for the API ("2", "2.5"). */
export function milliToString(milli) {
  const sign = milli < 0 ? "-" : "";
  const abs = Math.abs(milli);
  const whole = Math.floor(abs / 1000);
  const frac = String(abs % 1000).padStart(3, "0").replace(/0+$/, "");
  return sign + whole + (frac ? "." + frac : "");
}

/** Thousandths as a French quantity ("2", "2,5"). */
export function formatQty(milli) {
  return milliToString(milli).replace(".", ",").replace("-", "−");
}

/** A money string ("12.50") as integer cents. */
export function toCents(value) {
  const m = /^(-?)(\d+)(?:\.(\d{1,2}))?/.exec(String(value ?? "").trim());
  if (!m) return 0;
  const cents = Number(m[2]) * 100 + Number((m[3] || "").padEnd(2, "0"));
  return m[1] ? -cents : cents;
}

/** Integer cents as French euros ("1 234,50 €"). */
export function formatCents(cents) {
  const abs = Math.abs(cents);
  const euros = String(Math.floor(abs / 100)).replace(/\B(?=(\d{3})+(?!\d))/g, "\u202f");
  // Spelled like the server's recaps and pages (src/domain/french.rs).
  return (cents < 0 ? "-" : "") + euros + "," + String(abs % 100).padStart(2, "0") + "\u202f€";
}

/** cents × thousandths, rounded half-up to the cent (as the engine does). */
export function lineCents(priceCents, milli) {
  return Math.floor((priceCents * milli + 500) / 1000);
}

// ---------------------------------------------------------------- times

let dateFormat;
let dayFormat;
let hourFormat;

/** Formats times in this zone (the market's), or the browser's if unknown. */
export function setTimeZone(zone) {
  const make = (options) => {
    try {
      return new Intl.DateTimeFormat("fr-FR", { ...options, timeZone: zone || undefined });
    } catch (_) {
      return new Intl.DateTimeFormat("fr-FR", options);
    }
  };
  dateFormat = make({ weekday: "long", day: "numeric", month: "long", hour: "2-digit", minute: "2-digit" });
  dayFormat = make({ weekday: "long", day: "numeric", month: "long" });
  hourFormat = make({ hour: "2-digit", minute: "2-digit" });
}
setTimeZone(undefined);

/** "samedi 12 septembre à 09:00". */
export function formatDate(iso) {
  return dateFormat.format(new Date(iso));
}

/** "samedi 12 septembre". */
export function formatDay(iso) {
  return dayFormat.format(new Date(iso));
}

/** "09:00". */
export function formatHour(iso) {
  return hourFormat.format(new Date(iso));
}

/** A duration as "2 j 03:04:05" (days only when there are some). */
export function formatCountdown(ms) {
  const total = Math.max(0, Math.ceil(ms / 1000));
  const days = Math.floor(total / 86400);
  const h = Math.floor((total % 86400) / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const hms = [h, m, s].map((n) => String(n).padStart(2, "0")).join(":");
  return days > 0 ? `${days}\u00a0j ${hms}` : hms;
}

// ---------------------------------------------------------------- session

/** The signed-in session ({token, account_id, name, email}) or null. */
export function getSession() {
  for (const store of [sessionStorage, localStorage]) {
    try {
      const raw = store.getItem(SESSION_KEY);
      if (raw) {
        const session = JSON.parse(raw);
        if (session && typeof session.token === "string") return session;
      }
    } catch (_) {
      /* unreadable storage: treat as signed out */
    }
  }
  return null;
}

/** Keeps a session: on this device (localStorage) or for this tab only. */
export function saveSession(session, remember) {
  clearSession();
  (remember ? localStorage : sessionStorage).setItem(SESSION_KEY, JSON.stringify(session));
}

export function clearSession() {
  sessionStorage.removeItem(SESSION_KEY);
  localStorage.removeItem(SESSION_KEY);
}

// ---------------------------------------------------------------- API

/** A random key (works on plain http too, unlike crypto.randomUUID). */
export function randomKey() {
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * Calls the API. Never throws: `{ok, status, body}`, status 0 when the
 * server could not be reached.
 */
export async function api(method, path, body, options = {}) {
  const headers = { Accept: "application/json" };
  const token = options.token === undefined ? getSession()?.token : options.token;
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  Object.assign(headers, options.headers || {});
  try {
    const response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: "no-store",
    });
    const text = await response.text();
    let parsed = null;
    if (text) {
      try {
        parsed = JSON.parse(text);
      } catch (_) {
        parsed = { detail: text };
      }
    }
    return { ok: response.ok, status: response.status, body: parsed };
  } catch (_) {
    return { ok: false, status: 0, body: null };
  }
}

/** Plain French for the answers every page can get. */
export function commonProblem(answer) {
  if (answer.status === 0) return "Le serveur ne répond pas. Vérifiez votre connexion puis réessayez.";
  if (answer.status === 503 || answer.body?.code === "overloaded")
    return "Le service est très sollicité en ce moment : rien n'a été enregistré. Réessayez dans un instant.";
  if (answer.status === 401) return "Votre session a expiré : reconnectez-vous.";
  if (answer.status === 403) return "Ce compte n'a pas accès à cette page.";
  return "Une erreur inattendue s'est produite : rien n'a été enregistré. Réessayez dans un instant.";
}

// ---------------------------------------------------------------- live

/**
 * A WebSocket to this server that reconnects by itself (0.5 s, then up to
 * 5 s between attempts). `onMessage(json)` per frame; `onState(state)` with
 * "connecting", "live" or "offline".
 */
export class Live {
  constructor(path, { onMessage, onState }) {
    this.path = path;
    this.onMessage = onMessage;
    this.onState = onState || (() => {});
    this.delay = 500;
    this.closed = false;
    this.socket = null;
    this.connect();
  }

  connect() {
    if (this.closed) return;
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    this.onState("connecting");
    let socket;
    try {
      socket = new WebSocket(`${scheme}://${location.host}${this.path}`);
    } catch (_) {
      this.retry();
      return;
    }
    this.socket = socket;
    socket.addEventListener("open", () => {
      this.delay = 500;
      this.onState("live");
    });
    socket.addEventListener("message", (event) => {
      let message;
      try {
        message = JSON.parse(event.data);
      } catch (_) {
        return;
      }
      this.onMessage(message);
    });
    socket.addEventListener("close", () => {
      if (this.socket === socket) this.retry();
    });
    socket.addEventListener("error", () => socket.close());
  }

  retry() {
    if (this.closed) return;
    this.onState("offline");
    setTimeout(() => this.connect(), this.delay);
    this.delay = Math.min(this.delay * 2, 5000);
  }

  close() {
    this.closed = true;
    this.socket?.close();
  }
}

/** Shows the live link state in `node`. */
export function showLiveState(node, state) {
  const labels = {
    live: "En direct",
    connecting: "Connexion…",
    offline: "Hors ligne — reconnexion…",
    "signed-out": "Connectez-vous pour suivre les commandes en direct",
  };
  node.textContent = labels[state] || "";
  node.dataset.state = state;
}

// ---------------------------------------------------------------- a11y

let announceTimer = null;

/** Reads `text` to screen-reader users (the page's aria-live region). */
export function announce(text) {
  const region = document.getElementById("annonces");
  if (!region) return;
  region.textContent = "";
  clearTimeout(announceTimer);
  announceTimer = setTimeout(() => {
    region.textContent = text;
  }, 50);
}

/** Runs `render` and puts the focus back on the equivalent control. */
export function keepFocus(render) {
  const active = document.activeElement;
  const key = active?.dataset?.focusKey;
  render();
  if (key) {
    const again = document.querySelector(`[data-focus-key="${CSS.escape(key)}"]`);
    if (again && !again.disabled) again.focus();
  }
}
