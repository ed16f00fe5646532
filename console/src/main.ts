// Riposte web console: entry point, session, layout and hash routing (#/dashboard, ...).

import { api, ApiError, setCsrf, setUnauthorisedHandler, type Role } from "./api";
import { h, replace } from "./dom";
import { connectLive, disconnectLive, liveState, onLive } from "./live";
import { renderApprovals } from "./pages/approvals";
import { renderAudit } from "./pages/audit";
import { renderDashboard } from "./pages/dashboard";
import { renderDecisions } from "./pages/decisions";
import { renderIncidents } from "./pages/incidents";
import { renderIntel } from "./pages/intel";
import { renderLogin } from "./pages/login";
import { renderRules } from "./pages/rules";
import { renderUsers } from "./pages/users";
import { can, currentSession, setSession, toast } from "./ui";

interface PageDef {
  path: string;
  label: string;
  admin?: boolean;
  render: (root: HTMLElement, params: URLSearchParams) => () => void;
}

const app = document.getElementById("app") as HTMLElement;
let cleanup: (() => void) | null = null;
let approvalsCount = 0;
const approvalsBadge = h("span", { class: "count", "aria-label": "pending" });

function setApprovals(n: number): void {
  approvalsCount = n;
  approvalsBadge.textContent = n > 0 ? String(n) : "";
  approvalsBadge.hidden = n === 0;
}

const PAGES: PageDef[] = [
  { path: "dashboard", label: "Dashboard", render: (r) => renderDashboard(r) },
  { path: "incidents", label: "Incidents", render: (r, p) => renderIncidents(r, p) },
  { path: "decisions", label: "Decisions", render: (r, p) => renderDecisions(r, p) },
  { path: "approvals", label: "Approvals", render: (r) => renderApprovals(r, setApprovals) },
  { path: "intel", label: "Intel", render: (r, p) => renderIntel(r, p) },
  { path: "rules", label: "Rules", render: (r) => renderRules(r) },
  { path: "audit", label: "Audit", render: (r) => renderAudit(r) },
  { path: "users", label: "Users", admin: true, render: (r) => renderUsers(r) },
];

function parseHash(): { path: string; params: URLSearchParams } {
  const raw = location.hash.replace(/^#\/?/, "");
  const [path, query] = raw.split("?", 2);
  return { path: path || "dashboard", params: new URLSearchParams(query ?? "") };
}

function showLogin(notice = ""): void {
  cleanup?.();
  cleanup = null;
  disconnectLive();
  setSession(null);
  setCsrf("");
  document.title = "Log in · Riposte";
  renderLogin(
    app,
    (user, role, csrf) => {
      setCsrf(csrf);
      setSession({ user, role: role as Role });
      start();
    },
    notice,
  );
}

let shell: { main: HTMLElement; nav: HTMLElement; links: Map<string, HTMLAnchorElement>; live: HTMLElement; mode: HTMLElement } | null = null;

function buildShell(): void {
  const s = currentSession()!;
  const links = new Map<string, HTMLAnchorElement>();
  const nav = h("nav", { class: "nav", "aria-label": "Main", id: "main-nav" });
  const ul = h("ul");
  for (const p of PAGES) {
    if (p.admin && !can("admin")) continue;
    const a = h("a", { href: `#/${p.path}` }, p.label, p.path === "approvals" ? approvalsBadge : null);
    links.set(p.path, a);
    ul.appendChild(h("li", null, a));
  }
  nav.appendChild(ul);
  const menu = h("button", { type: "button", class: "menu-toggle", "aria-controls": "main-nav", "aria-expanded": "false" }, "Menu");
  menu.addEventListener("click", () => {
    const open = !nav.classList.contains("open");
    nav.classList.toggle("open", open);
    menu.setAttribute("aria-expanded", String(open));
  });
  nav.addEventListener("click", (e) => {
    if ((e.target as HTMLElement).closest("a")) {
      nav.classList.remove("open");
      menu.setAttribute("aria-expanded", "false");
    }
  });
  const live = h("span", { class: "live", role: "status", "aria-label": "Live updates" });
  const mode = h("span", { class: "mode-pill" });
  const logout = h("button", { type: "button", class: "secondary small" }, "Log out");
  logout.addEventListener("click", async () => {
    try {
      await api.logout();
    } catch {
      // The session may already be gone.
    }
    showLogin();
  });
  const main = h("main", { id: "content", tabindex: "-1" });
  replace(
    app,
    h("a", { class: "skip", href: "#content", onclick: (e: Event) => { e.preventDefault(); main.focus(); } }, "Skip to content"),
    h(
      "header",
      { class: "topbar" },
      menu,
      h("a", { class: "brand", href: "#/dashboard" }, "Riposte"),
      mode,
      live,
      h("span", { class: "user" }, h("span", { class: "who" }, s.user), " ", h("span", { class: "role" }, s.role)),
      logout,
    ),
    h("div", { class: "layout" }, nav, main),
    h("div", { id: "toasts", class: "toasts", role: "status", "aria-live": "polite" }),
  );
  shell = { main, nav, links, live, mode };
  drawLive();
}

function drawLive(): void {
  if (!shell) return;
  const st = liveState();
  shell.live.textContent = st === "live" ? "● Live" : st === "connecting" ? "○ Connecting" : "○ Offline";
  shell.live.className = `live live-${st}`;
}

function drawModePill(mode: string): void {
  if (!shell) return;
  shell.mode.textContent = mode === "manual" ? "MANUAL MODE" : mode === "dry-run" ? "DRY RUN" : "auto";
  shell.mode.className = `mode-pill mode-${mode}`;
  shell.mode.title =
    mode === "manual"
      ? "New decisions wait for approval"
      : mode === "dry-run"
        ? "Decisions are recorded, nothing is enforced"
        : "Decisions are enforced automatically";
}

function route(): void {
  if (!shell || !currentSession()) return;
  const { path, params } = parseHash();
  const page = PAGES.find((p) => p.path === path && (!p.admin || can("admin"))) ?? PAGES[0];
  cleanup?.();
  cleanup = null;
  for (const [p, a] of shell.links) {
    if (p === page.path) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
  document.title = `${page.label} · Riposte`;
  const container = h("div", { class: `page page-${page.path}` });
  replace(shell.main, container);
  cleanup = page.render(container, params);
}

let started = false;
function start(): void {
  buildShell();
  connectLive();
  if (!started) {
    started = true;
    window.addEventListener("hashchange", route);
    onLive((e) => {
      if (e.type === "connection") drawLive();
      if (e.type === "mode") {
        drawModePill(e.data.mode);
        // Changes made here are confirmed by the page that made them; others are announced.
        if (e.data.actor !== `api:${currentSession()?.user}`) {
          const why = e.data.reason ? `: ${e.data.reason}` : "";
          toast(
            e.data.mode === "manual" ? `Manual mode${why}` : e.data.mode === "dry-run" ? `Dry-run mode${why}` : "Automatic mode resumed",
            e.data.mode === "auto" ? "ok" : "error",
          );
        }
      }
      if (e.type === "decision") {
        const k = e.data.kind;
        if (k === "decision.proposed") {
          setApprovals(approvalsCount + 1);
          toast(`Approval needed: ${e.data.decision.action} ${e.data.decision.target}`);
        } else if (k === "decision.approved" || k === "decision.rejected") {
          setApprovals(Math.max(0, approvalsCount - 1));
        } else if (k === "decision.created") {
          toast(`${e.data.decision.action} ${e.data.decision.target}`);
        } else if (k === "decision.dry_run") {
          toast(`Dry run: would ${e.data.decision.action} ${e.data.decision.target}`);
        }
      }
    });
  }
  api
    .status()
    .then((s) => {
      drawModePill(s.mode);
      setApprovals(s.decisions.pending_approval);
    })
    .catch(() => undefined);
  route();
}

async function boot(): Promise<void> {
  setUnauthorisedHandler(() => {
    if (currentSession()) showLogin("Your session has ended; log in again.");
  });
  try {
    const me = await api.me();
    if (me.auth !== "session" || !me.csrf_token) throw new ApiError(401, "unauthenticated", "");
    setCsrf(me.csrf_token);
    setSession({ user: me.user, role: me.role });
    start();
  } catch (e) {
    showLogin(e instanceof ApiError && (e.status === 401 || e.status === 403) ? "" : String((e as Error).message ?? e));
  }
}

void boot();
