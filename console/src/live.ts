// Live updates: one EventSource on /api/v1/stream (the session cookie authenticates it).
// Frames: `finding` (a finding object), `decision` ({kind, decision}), `mode` ({mode, reason,
// actor}), `incident` (an incident object, on open and every change). Pages subscribe while they
// are shown; the connection reconnects by itself.

import type { Decision, EngineModeName, Finding, Incident } from "./api";

export type LiveEvent =
  | { type: "finding"; data: Finding }
  | { type: "decision"; data: { kind: string; decision: Decision } }
  | { type: "mode"; data: { mode: EngineModeName; reason?: string; actor?: string } }
  | { type: "incident"; data: Incident }
  | { type: "connection"; data: { state: "live" | "connecting" | "offline" } };

type Listener = (e: LiveEvent) => void;

const listeners = new Set<Listener>();
let source: EventSource | null = null;
let state: "live" | "connecting" | "offline" = "offline";

function emit(e: LiveEvent): void {
  for (const l of [...listeners]) {
    try {
      l(e);
    } catch (err) {
      console.error("live listener", err);
    }
  }
}

function setState(s: typeof state): void {
  if (s === state) return;
  state = s;
  emit({ type: "connection", data: { state: s } });
}

export function connectLive(): void {
  if (source) return;
  setState("connecting");
  const es = new EventSource("/api/v1/stream", { withCredentials: true });
  source = es;
  es.onopen = () => setState("live");
  es.onerror = () => setState(es.readyState === EventSource.CLOSED ? "offline" : "connecting");
  for (const type of ["finding", "decision", "mode", "incident"] as const) {
    es.addEventListener(type, (m) => {
      try {
        emit({ type, data: JSON.parse((m as MessageEvent).data) } as LiveEvent);
      } catch {
        // A frame that is not JSON is ignored.
      }
    });
  }
}

export function disconnectLive(): void {
  source?.close();
  source = null;
  setState("offline");
}

export function liveState(): typeof state {
  return state;
}

export function onLive(l: Listener): () => void {
  listeners.add(l);
  return () => listeners.delete(l);
}
