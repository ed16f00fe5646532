// Log-in: user name and password → a cookie session (HttpOnly) and the CSRF token for writes.

import { api, ApiError } from "../api";
import { field, h, replace } from "../dom";

export function renderLogin(root: HTMLElement, onDone: (user: string, role: string, csrf: string) => void, notice = ""): void {
  const user = h("input", { type: "text", name: "username", autocomplete: "username", required: true, autocapitalize: "none", spellcheck: "false" });
  const pass = h("input", { type: "password", name: "password", autocomplete: "current-password", required: true });
  const msg = h("p", { class: "error", role: "alert" }, notice);
  const btn = h("button", { type: "submit", class: "primary big" }, "Log in");
  const form = h(
    "form",
    {
      class: "login card",
      "aria-labelledby": "login-h",
      onsubmit: async (e: Event) => {
        e.preventDefault();
        btn.disabled = true;
        msg.textContent = "";
        try {
          const r = await api.login(user.value.trim(), pass.value);
          pass.value = "";
          onDone(r.user, r.role, r.csrf_token);
        } catch (err) {
          if (err instanceof ApiError && err.status === 429) {
            msg.textContent = "Too many failed attempts; wait before trying again.";
          } else if (err instanceof ApiError && err.status === 401) {
            msg.textContent = "Wrong user name or password.";
          } else {
            msg.textContent = err instanceof Error ? err.message : String(err);
          }
          pass.focus();
        } finally {
          btn.disabled = false;
        }
      },
    },
    h("h1", { id: "login-h" }, "Riposte"),
    h("p", { class: "muted" }, "Log in to the console."),
    field("User name", user),
    field("Password", pass),
    msg,
    btn,
  );
  replace(root, h("main", { class: "login-page" }, form));
  user.focus();
}
