// Shared pieces of the console: who is logged in, toasts, confirmation dialogs, page frame.

import { ApiError, type Role } from "./api";
import { h, field } from "./dom";

export interface Session {
  user: string;
  role: Role;
}

let session: Session | null = null;
export function currentSession(): Session | null {
  return session;
}
export function setSession(s: Session | null): void {
  session = s;
}
export function can(what: "analyst" | "admin"): boolean {
  if (!session) return false;
  if (what === "admin") return session.role === "admin";
  return session.role === "admin" || session.role === "analyst";
}

export function toast(message: string, kind: "ok" | "error" = "ok"): void {
  const region = document.getElementById("toasts");
  if (!region) return;
  const t = h("div", { class: `toast toast-${kind}` }, message);
  region.appendChild(t);
  setTimeout(() => t.remove(), kind === "error" ? 8000 : 4000);
}

export function errorText(e: unknown): string {
  if (e instanceof ApiError) return `${e.message} (${e.code})`;
  return e instanceof Error ? e.message : String(e);
}

export function errorBox(e: unknown): HTMLElement {
  return h("p", { class: "error", role: "alert" }, errorText(e));
}

// A modal dialog; resolves with the form's values, or null when cancelled.
export function ask(
  title: string,
  body: (HTMLElement | string)[],
  confirmLabel: string,
  inputs: { name: string; label: string; value?: string; options?: string[]; required?: boolean }[] = [],
  danger = false,
): Promise<Record<string, string> | null> {
  return new Promise((resolve) => {
    const controls: Record<string, HTMLInputElement | HTMLSelectElement> = {};
    const fields = inputs.map((i) => {
      let c: HTMLInputElement | HTMLSelectElement;
      if (i.options) {
        c = h("select", { name: i.name }, i.options.map((o) => h("option", { value: o, selected: o === i.value }, o)));
      } else {
        c = h("input", { name: i.name, type: "text", value: i.value ?? "", required: i.required ?? false });
      }
      controls[i.name] = c;
      return field(i.label, c);
    });
    const titleId = `dlg-${Math.random().toString(36).slice(2, 8)}`;
    const dlg = h("dialog", { class: "dialog", "aria-labelledby": titleId });
    const done = (v: Record<string, string> | null) => {
      dlg.close();
      dlg.remove();
      resolve(v);
    };
    const form = h(
      "form",
      {
        method: "dialog",
        onsubmit: (ev: Event) => {
          ev.preventDefault();
          const out: Record<string, string> = {};
          for (const [k, c] of Object.entries(controls)) out[k] = c.value;
          done(out);
        },
      },
      h("h2", { id: titleId }, title),
      ...body.map((b) => (typeof b === "string" ? h("p", null, b) : b)),
      ...fields,
      h(
        "div",
        { class: "dialog-buttons" },
        h("button", { type: "button", class: "secondary", onclick: () => done(null) }, "Cancel"),
        h("button", { type: "submit", class: danger ? "danger" : "primary" }, confirmLabel),
      ),
    );
    dlg.appendChild(form);
    dlg.addEventListener("cancel", (ev) => {
      ev.preventDefault();
      done(null);
    });
    document.body.appendChild(dlg);
    dlg.showModal();
    const first = form.querySelector("input,select") as HTMLElement | null;
    (first ?? (form.querySelector("button[type=submit]") as HTMLElement)).focus();
  });
}

// The frame of a page: heading and an optional toolbar.
export function pageHeader(title: string, ...tools: (HTMLElement | null)[]): HTMLElement {
  return h("header", { class: "page-header" }, h("h1", null, title), h("div", { class: "tools" }, tools));
}

// Runs an action from a button: disables it meanwhile, toasts the outcome.
export async function act(btn: HTMLButtonElement | null, fn: () => Promise<unknown>, ok: string): Promise<boolean> {
  if (btn) btn.disabled = true;
  try {
    await fn();
    toast(ok);
    return true;
  } catch (e) {
    toast(errorText(e), "error");
    return false;
  } finally {
    if (btn) btn.disabled = false;
  }
}
