// Signing in and up (POST /api/v1/accounts, POST /api/v1/sessions) in a
// modal <dialog>, signing out, and the account area of the top bar. The
// token is kept in localStorage ("Rester connecté") or sessionStorage.

import { api, commonProblem, el, getSession, saveSession, clearSession } from "/assets/common.js";

const FIELD_NAMES = { email: "adresse e-mail", password: "mot de passe", name: "nom" };

function authProblem(answer, mode) {
  const code = answer.body?.code;
  if (answer.status === 401 && mode === "signin") return "Adresse e-mail ou mot de passe incorrect.";
  if (code === "email_taken") return "Un compte existe déjà avec cette adresse e-mail : connectez-vous.";
  if (code === "invalid_field") {
    const fields = (answer.body.errors || []).map((e) => FIELD_NAMES[e.field] || e.field);
    const hint = fields.includes("mot de passe") ? " Le mot de passe doit compter au moins 8 caractères." : "";
    return `Vérifiez : ${fields.join(", ") || "le formulaire"}.${hint}`;
  }
  return commonProblem(answer);
}

/**
 * The sign-in / sign-up dialog. Resolves with the new session, or null if
 * the person closed it. `reason` explains why we ask.
 */
export function askToSignIn(reason = "") {
  return new Promise((resolve) => {
    let mode = "signin";
    const error = el("p", { class: "form-error", role: "alert", hidden: true });
    const nameField = el("p", { class: "field", hidden: true },
      el("label", { for: "auth-name", text: "Votre nom" }),
      el("input", { id: "auth-name", name: "name", autocomplete: "name", maxlength: 200 }));
    const title = el("h2", { id: "auth-title", text: "Se connecter" });
    const submit = el("button", { type: "submit", class: "primary", text: "Se connecter" });
    const toggle = el("button", { type: "button", class: "link", text: "Pas encore de compte ? Créer un compte" });
    const password = el("input", {
      id: "auth-password", name: "password", type: "password", required: true,
      autocomplete: "current-password", minlength: 8, maxlength: 128,
    });
    const form = el("form", { class: "auth-form", novalidate: true },
      title,
      reason ? el("p", { class: "hint", text: reason }) : null,
      error,
      nameField,
      el("p", { class: "field" },
        el("label", { for: "auth-email", text: "Adresse e-mail" }),
        el("input", { id: "auth-email", name: "email", type: "email", required: true, autocomplete: "email" })),
      el("p", { class: "field" }, el("label", { for: "auth-password", text: "Mot de passe" }), password),
      el("p", { class: "field check" },
        el("input", { id: "auth-remember", name: "remember", type: "checkbox", checked: true }),
        el("label", { for: "auth-remember", text: "Rester connecté sur cet appareil" })),
      el("p", { class: "actions" }, submit,
        el("button", { type: "button", class: "secondary", value: "cancel", text: "Fermer", on: { click: () => dialog.close() } })),
      el("p", {}, toggle));
    const dialog = el("dialog", { class: "auth", "aria-labelledby": "auth-title" }, form);
    let session = null;

    toggle.addEventListener("click", () => {
      mode = mode === "signin" ? "signup" : "signin";
      const signup = mode === "signup";
      nameField.hidden = !signup;
      nameField.querySelector("input").required = signup;
      title.textContent = signup ? "Créer un compte" : "Se connecter";
      submit.textContent = signup ? "Créer mon compte" : "Se connecter";
      toggle.textContent = signup ? "Déjà un compte ? Se connecter" : "Pas encore de compte ? Créer un compte";
      password.autocomplete = signup ? "new-password" : "current-password";
      error.hidden = true;
      (signup ? nameField.querySelector("input") : form.elements.email).focus();
    });

    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      error.hidden = true;
      const email = form.elements.email.value.trim();
      const pass = form.elements.password.value;
      const name = form.elements.name.value.trim();
      const missing = [];
      if (mode === "signup" && !name) missing.push("votre nom");
      if (!email) missing.push("votre adresse e-mail");
      if (!pass) missing.push("votre mot de passe");
      if (missing.length) {
        error.textContent = `Indiquez ${missing.join(", ")}.`;
        error.hidden = false;
        return;
      }
      submit.disabled = true;
      submit.setAttribute("aria-busy", "true");
      try {
        if (mode === "signup") {
          const created = await api("POST", "/api/v1/accounts", { email, password: pass, name }, { token: null });
          if (!created.ok) throw authProblem(created, mode);
        }
        const opened = await api("POST", "/api/v1/sessions", { email, password: pass }, { token: null });
        if (!opened.ok) throw authProblem(opened, "signin");
        const me = await api("GET", "/api/v1/accounts/me", undefined, { token: opened.body.token });
        session = {
          token: opened.body.token,
          account_id: opened.body.account_id,
          name: me.ok ? me.body.name : name || email,
          email,
        };
        saveSession(session, form.elements.remember.checked);
        dialog.close();
      } catch (message) {
        error.textContent = typeof message === "string" ? message : commonProblem({ status: 0 });
        error.hidden = false;
      } finally {
        submit.disabled = false;
        submit.removeAttribute("aria-busy");
      }
    });

    dialog.addEventListener("close", () => {
      dialog.remove();
      resolve(session);
    });
    document.body.append(dialog);
    dialog.showModal();
    form.elements.email.focus();
  });
}

/** Signs out on the server (best effort) and here. */
export async function signOut() {
  const session = getSession();
  clearSession();
  if (session) await api("DELETE", "/api/v1/sessions/current", undefined, { token: session.token });
}

/** Renders the account area: "Se connecter" or the name and "Se déconnecter". */
export function renderAccount(node, session, { onSignIn, onSignOut }) {
  node.replaceChildren();
  if (session) {
    node.append(
      el("span", { class: "who", text: session.name || session.email || "Connecté" }),
      el("button", { type: "button", class: "secondary small", id: "deconnexion", text: "Se déconnecter", on: { click: onSignOut } }));
  } else {
    node.append(el("button", { type: "button", class: "secondary small", id: "connexion", text: "Se connecter", on: { click: onSignIn } }));
  }
}
