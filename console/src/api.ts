// The console's client of the Riposte REST API (/api/v1, docs/api.md): a cookie session
// (HttpOnly, set by POST /auth/login) and the CSRF token the login returns, sent as
// X-CSRF-Token on every write.

export type Role = "viewer" | "analyst" | "admin" | "ingest";

export interface Decision {
  id: string;
  target: string;
  scope: string;
  action: string;
  state: string;
  detector: string;
  reason: string;
  events: number;
  first_seen: string;
  last_seen: string;
  created?: string;
  expires: string;
  origin?: string;
  finding_id?: string;
  // Optional: when an unanswered approval takes its default course, and what that is.
  default_at?: string;
  default_action?: string;
}

export interface Finding {
  id: string;
  detector: string;
  entity: string;
  entity_type: string;
  severity: number;
  score: number;
  reason: string;
  action: string;
  events: number;
  first_seen: string;
  last_seen: string;
  labels?: string[];
  created?: string;
  false_positive?: boolean;
  shadow?: boolean;
  evidence?: StoredEvent[];
}

export type IncidentStatus = "open" | "acknowledged" | "closed";

// Findings about one target grouped by the correlator (docs/ARCHITECTURE.md, Incidents).
export interface Incident {
  id: string;
  key: string;
  target: string;
  scope: string;
  title: string;
  severity: number;
  finding_severity: number;
  status: IncidentStatus;
  first_seen: string;
  last_seen: string;
  created: string;
  updated: string;
  findings: number;
  detectors: string[];
  labels: string[];
  decisions: string[];
  status_by: string;
  status_at: string | null;
  status_note: string;
  // GET /incidents/{id} only: its findings (oldest first) and the decisions taken on them.
  finding_items?: Finding[];
  findings_omitted?: number;
  decision_items?: Decision[];
}

export interface StoredEvent {
  id: number;
  finding_id: string;
  timestamp: string;
  source: string;
  offset: number;
  raw: string;
  fields: Record<string, unknown>;
}

export interface Page<T> {
  items: T[];
  next_cursor: string | null;
}

export type EngineModeName = "auto" | "manual" | "dry-run";

export interface Status {
  version: string;
  mode: EngineModeName;
  started?: string;
  engine?: Record<string, number>;
  queues?: Record<string, number>;
  decisions: { active: number; pending_approval: number };
  findings: number;
}

export interface Mode {
  mode: EngineModeName;
  reason?: string;
  actor?: string;
  since?: string | null;
  pending_approval?: number;
}

export interface SourceHealth {
  name: string;
  type: string;
  parser: string;
  lines: number;
  healthy: boolean;
  last_error?: string;
  last_line?: string | null;
  [k: string]: unknown;
}

export interface Rule {
  id: string;
  name: string;
  description: string;
  detector: string;
  file: string;
  line: number;
  mode: "enabled" | "disabled" | "shadow";
  file_mode?: "enabled" | "disabled" | "shadow";
  mode_set_by?: string | null;
  mode_since?: string | null;
  severity: number;
  action: string;
  matches: number;
  findings: number;
}

export interface RuleLoad {
  items: string[];
  errors?: number;
  rejected?: boolean;
  error?: string;
  loaded_by?: string;
  loaded_at?: string | null;
}

export interface AuditEntry {
  seq: number;
  time: string;
  actor: string;
  kind: string;
  target: string;
  reason: string;
  details: unknown;
  hash: string;
}

export interface User {
  name: string;
  role: Role;
  created: string;
  disabled: boolean;
}

export interface Token {
  id: string;
  user: string;
  name: string;
  created: string;
  revoked: boolean;
  last_used: string | null;
  token?: string;
}

export interface IntelMatch {
  type: string;
  value: string;
  score: number;
  valid_until: string | null;
  sources: {
    source: string;
    confidence: number;
    first_seen: string | null;
    last_seen: string | null;
    valid_until: string | null;
    tlp: string | null;
    reference: string;
    tags: string[];
  }[];
}

export interface IntelLookup {
  query: string;
  matches: IntelMatch[];
  normalised?: { type: string; value: string };
  error?: string;
}

export interface Me {
  user: string;
  role: Role;
  auth: "session" | "token";
  csrf_token?: string;
}

export class ApiError extends Error {
  constructor(
    public status: number,
    public code: string,
    message: string,
    public body: unknown = null,
  ) {
    super(message);
  }
}

let csrf = "";
let onUnauthorised: (() => void) | null = null;

export function setCsrf(token: string): void {
  csrf = token;
}

export function setUnauthorisedHandler(fn: () => void): void {
  onUnauthorised = fn;
}

export async function request<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (method !== "GET" && method !== "HEAD" && csrf) headers["X-CSRF-Token"] = csrf;
  let res: Response;
  try {
    res = await fetch(`/api/v1${path}`, {
      method,
      headers,
      credentials: "same-origin",
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError(0, "network", "the server cannot be reached");
  }
  const text = await res.text();
  let data: unknown = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = text;
    }
  }
  if (!res.ok) {
    const err = (data as { error?: { code?: string; message?: string } } | null)?.error;
    const code = err?.code ?? `http_${res.status}`;
    if (res.status === 401 && path !== "/auth/login" && onUnauthorised) onUnauthorised();
    throw new ApiError(res.status, code, err?.message ?? `${res.status} ${res.statusText}`, data);
  }
  return data as T;
}

export function qs(params: Record<string, string | number | undefined | null>): string {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null && v !== "") p.set(k, String(v));
  }
  const s = p.toString();
  return s ? `?${s}` : "";
}

export const api = {
  me: () => request<Me>("GET", "/auth/me"),
  login: (username: string, password: string) =>
    request<{ user: string; role: Role; csrf_token: string; expires: string }>("POST", "/auth/login", {
      username,
      password,
    }),
  logout: () => request<unknown>("POST", "/auth/logout"),
  status: () => request<Status>("GET", "/status"),
  mode: () => request<Mode>("GET", "/mode"),
  setMode: (mode: EngineModeName, reason?: string) => request<Mode>("PUT", "/mode", { mode, reason }),
  decisions: (q: Record<string, string | number | undefined>) => request<Page<Decision>>("GET", `/decisions${qs(q)}`),
  decision: (id: string) => request<Decision>("GET", `/decisions/${encodeURIComponent(id)}`),
  addDecision: (body: { target: string; duration?: string; reason?: string; action?: string }) =>
    request<Decision>("POST", "/decisions", body),
  revoke: (id: string, reason: string) =>
    request<Decision>("POST", `/decisions/${encodeURIComponent(id)}/revoke`, { reason }),
  extend: (id: string, duration: string) =>
    request<Decision>("POST", `/decisions/${encodeURIComponent(id)}/extend`, { duration }),
  approvals: (q: Record<string, string | number | undefined> = {}) => request<Page<Decision>>("GET", `/approvals${qs(q)}`),
  approve: (id: string) => request<Decision>("POST", `/approvals/${encodeURIComponent(id)}/approve`, {}),
  reject: (id: string, reason: string) =>
    request<Decision>("POST", `/approvals/${encodeURIComponent(id)}/reject`, { reason }),
  findings: (q: Record<string, string | number | undefined>) => request<Page<Finding>>("GET", `/findings${qs(q)}`),
  finding: (id: string) => request<Finding>("GET", `/findings/${encodeURIComponent(id)}`),
  markFalsePositive: (id: string, fp: boolean) =>
    request<Finding>("POST", `/findings/${encodeURIComponent(id)}/false-positive`, { false_positive: fp }),
  incidents: (q: Record<string, string | number | undefined>) => request<Page<Incident>>("GET", `/incidents${qs(q)}`),
  incident: (id: string) => request<Incident>("GET", `/incidents/${encodeURIComponent(id)}`),
  setIncidentStatus: (id: string, status: IncidentStatus, note?: string) =>
    request<Incident>("POST", `/incidents/${encodeURIComponent(id)}/status`, { status, note }),
  sources: () => request<{ items: SourceHealth[] }>("GET", "/sources"),
  feeds: () => request<{ items: Record<string, unknown>[] }>("GET", "/intel/feeds"),
  syncFeed: (name: string) =>
    request<{ feed: string; requested: boolean }>("POST", `/intel/feeds/${encodeURIComponent(name)}/sync`, {}),
  intel: (value: string) => request<IntelLookup>("GET", `/intel/lookup${qs({ value })}`),
  rules: () => request<{ items: Rule[] }>("GET", "/rules"),
  ruleErrors: () => request<RuleLoad>("GET", "/rules/errors"),
  setRuleMode: (id: string, mode: string) => request<unknown>("PUT", `/rules/${encodeURIComponent(id)}/mode`, { mode }),
  reloadRules: () => request<{ reloaded: boolean; rules: number }>("POST", "/rules/reload", {}),
  audit: (q: Record<string, string | number | undefined>) => request<Page<AuditEntry>>("GET", `/audit${qs(q)}`),
  verifyAudit: () => request<{ ok: boolean; entries: number; error?: string }>("GET", "/audit/verify"),
  users: () => request<{ items: User[] }>("GET", "/users"),
  addUser: (name: string, role: Role, password: string) => request<User>("POST", "/users", { name, role, password }),
  updateUser: (name: string, patch: { role?: Role; disabled?: boolean; password?: string }) =>
    request<User>("PATCH", `/users/${encodeURIComponent(name)}`, patch),
  deleteUser: (name: string) => request<unknown>("DELETE", `/users/${encodeURIComponent(name)}`),
  tokens: () => request<{ items: Token[] }>("GET", "/tokens"),
  createToken: (user: string, name: string) => request<Token>("POST", "/tokens", { user, name }),
  revokeToken: (id: string) => request<unknown>("DELETE", `/tokens/${encodeURIComponent(id)}`),
};
