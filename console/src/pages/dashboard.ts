// Dashboard: live counters, mode with a one-click switch to manual, timeline of findings and
// decisions, top attackers, recent decisions, source and feed health.

import { api, ApiError, type Decision, type Finding, type SourceHealth, type Status } from "../api";
import { timeline } from "../chart";
import { badge, h, relTime, replace, table } from "../dom";
import { onLive } from "../live";
import { act, can, errorBox, pageHeader } from "../ui";
import { modeBanner } from "./mode";

const SPAN_MS = 60 * 60 * 1000;
const BUCKETS = 30;
const POLL_MS = 2000;

function stat(label: string, id: string): { el: HTMLElement; value: HTMLElement } {
  const value = h("span", { class: "stat-value", id }, "…");
  const el = h("div", { class: "stat", role: "group", "aria-label": label }, h("span", { class: "stat-label" }, label), value);
  return { el, value };
}

export function renderDashboard(root: HTMLElement): () => void {
  const events = stat("Events per second", "stat-eps");
  const findings = stat("Findings", "stat-findings");
  const blocks = stat("Active blocks", "stat-blocks");
  const pending = stat("Pending approvals", "stat-pending");
  const modeBox = h("section", { class: "card mode-card", "aria-label": "Mode" });
  const chartBox = h("div", { class: "chart" });
  const attackersBox = h("div");
  const recentBox = h("div");
  const healthBox = h("div");
  const feedsBox = h("div");

  replace(
    root,
    pageHeader("Dashboard"),
    h("section", { class: "stats", "aria-label": "Counters" }, events.el, findings.el, blocks.el, pending.el),
    modeBox,
    h(
      "section",
      { class: "card", "aria-labelledby": "tl-h" },
      h("h2", { id: "tl-h" }, "Timeline (last hour)"),
      h(
        "p",
        { class: "legend" },
        h("span", { class: "key key-findings" }, "Findings"),
        h("span", { class: "key key-decisions" }, "Decisions"),
      ),
      chartBox,
    ),
    h(
      "div",
      { class: "grid2" },
      h("section", { class: "card", "aria-labelledby": "ta-h" }, h("h2", { id: "ta-h" }, "Top attackers"), attackersBox),
      h("section", { class: "card", "aria-labelledby": "rd-h" }, h("h2", { id: "rd-h" }, "Recent decisions"), recentBox),
    ),
    h(
      "div",
      { class: "grid2" },
      h("section", { class: "card", "aria-labelledby": "sh-h" }, h("h2", { id: "sh-h" }, "Source health"), healthBox),
      h("section", { class: "card", "aria-labelledby": "fh-h" }, h("h2", { id: "fh-h" }, "Feed health"), feedsBox),
    ),
  );

  let findingTimes: number[] = [];
  let decisionTimes: number[] = [];
  let recentFindings: Finding[] = [];
  let decisions: Decision[] = [];
  let lastLines: { lines: number; at: number } | null = null;
  let stopped = false;

  const drawChart = () => {
    replace(
      chartBox,
      timeline(
        [
          { label: "Findings", className: "series-findings", times: findingTimes },
          { label: "Decisions", className: "series-decisions", times: decisionTimes },
        ],
        { end: Date.now(), span: SPAN_MS, buckets: BUCKETS },
        chartBox.clientWidth || 600,
      ),
    );
  };

  const drawAttackers = () => {
    const by = new Map<string, { entity: string; findings: number; events: number; last: string; detectors: Set<string> }>();
    for (const f of recentFindings) {
      const a = by.get(f.entity) ?? { entity: f.entity, findings: 0, events: 0, last: f.last_seen, detectors: new Set<string>() };
      a.findings++;
      a.events += f.events;
      if (f.last_seen > a.last) a.last = f.last_seen;
      a.detectors.add(f.detector);
      by.set(f.entity, a);
    }
    const blocked = new Map(decisions.filter((d) => d.state === "active" || d.state === "pending-approval").map((d) => [d.target, d.state]));
    const rows = [...by.values()].sort((a, b) => b.events - a.events || b.findings - a.findings).slice(0, 10);
    replace(
      attackersBox,
      table(
        "Entities with the most evidence in recent findings",
        [
          { label: "Entity", cell: (r) => h("a", { href: `#/decisions?target=${encodeURIComponent(r.entity)}` }, r.entity), className: "mono" },
          { label: "Events", cell: (r) => r.events },
          { label: "Findings", cell: (r) => r.findings },
          { label: "Detectors", cell: (r) => [...r.detectors].join(", ") },
          { label: "Status", cell: (r) => (blocked.has(r.entity) ? badge(blocked.get(r.entity)!) : badge("watching", "none")) },
        ],
        rows,
        "No findings yet.",
      ),
    );
  };

  const drawRecent = () => {
    const rows = decisions.slice(0, 8);
    replace(
      recentBox,
      table(
        "Latest decisions",
        [
          { label: "Target", cell: (d) => d.target, className: "mono" },
          { label: "Action", cell: (d) => d.action },
          { label: "State", cell: (d) => badge(d.state) },
          { label: "Detector", cell: (d) => d.detector },
          { label: "When", cell: (d) => relTime(d.created ?? d.last_seen) },
        ],
        rows,
        "No decisions yet.",
      ),
    );
  };

  const drawStatus = (s: Status) => {
    findings.value.textContent = String(s.findings);
    blocks.value.textContent = String(s.decisions.active);
    pending.value.textContent = String(s.decisions.pending_approval);
    const lines = s.engine?.lines;
    const now = performance.now();
    if (lines !== undefined) {
      if (lastLines && now > lastLines.at) {
        const rate = ((lines - lastLines.lines) * 1000) / (now - lastLines.at);
        events.value.textContent = rate >= 100 ? Math.round(rate).toLocaleString() : rate.toFixed(1);
      } else {
        events.value.textContent = "0.0";
      }
      lastLines = { lines, at: now };
    } else {
      events.value.textContent = "—";
    }
  };

  const drawHealth = (items: SourceHealth[]) => {
    replace(
      healthBox,
      table(
        "Sources",
        [
          { label: "Source", cell: (s) => s.name },
          { label: "Type", cell: (s) => `${s.type} / ${s.parser}` },
          { label: "Lines", cell: (s) => Number(s.lines ?? 0).toLocaleString() },
          { label: "Last line", cell: (s) => relTime(s.last_line ?? null) },
          {
            label: "Health",
            cell: (s) => [badge(s.healthy ? "healthy" : "failing", s.healthy ? "ok" : "bad"), s.last_error ? h("small", { class: "detail" }, s.last_error) : null],
          },
        ],
        items,
        "No sources configured.",
      ),
    );
  };

  const loadFeeds = async () => {
    try {
      const f = await api.feeds();
      replace(
        feedsBox,
        table(
          "Intel feeds",
          [
            { label: "Feed", cell: (r) => String(r.name ?? r.source ?? "") },
            { label: "Indicators", cell: (r) => String(r.indicators ?? "—") },
            { label: "Last sync", cell: (r) => relTime((r.last_sync ?? r.last_success ?? null) as string | null) },
            {
              label: "Health",
              cell: (r) => {
                const ok = r.healthy !== false && !r.last_error;
                return [badge(ok ? "healthy" : "failing", ok ? "ok" : "bad"), r.last_error ? h("small", { class: "detail" }, String(r.last_error)) : null];
              },
            },
            ...(can("analyst")
              ? [
                  {
                    label: "",
                    cell: (r: Record<string, unknown>) => {
                      if (r.enabled === false) return h("small", { class: "muted" }, "disabled");
                      const name = String(r.name ?? "");
                      const btn = h("button", { type: "button", class: "secondary", "data-feed": name }, "Sync now") as HTMLButtonElement;
                      btn.addEventListener("click", () => {
                        void act(btn, () => api.syncFeed(name), `Feed ${name}: run requested`).then((done) => {
                          // The run happens on the server's collector; its health follows shortly.
                          if (done) setTimeout(() => void loadFeeds(), 1500);
                        });
                      });
                      return btn;
                    },
                  },
                ]
              : []),
          ],
          f.items,
          "No intel feeds configured.",
        ),
      );
    } catch (e) {
      if (e instanceof ApiError && e.status === 404) {
        replace(feedsBox, h("p", { class: "muted" }, "This server reports no intel feed status."));
      } else {
        replace(feedsBox, errorBox(e));
      }
    }
  };

  const loadHistory = async () => {
    try {
      const [fs, ds] = await Promise.all([api.findings({ limit: 1000 }), api.decisions({ state: "all", limit: 1000 })]);
      recentFindings = fs.items;
      decisions = ds.items;
      findingTimes = fs.items.map((f) => Date.parse(f.created ?? f.last_seen));
      decisionTimes = ds.items.map((d) => Date.parse(d.created ?? d.last_seen));
      drawChart();
      drawAttackers();
      drawRecent();
    } catch (e) {
      replace(chartBox, errorBox(e));
    }
  };

  const poll = async () => {
    try {
      const [s, src] = await Promise.all([api.status(), api.sources()]);
      if (stopped) return;
      drawStatus(s);
      drawHealth(src.items);
    } catch (e) {
      if (!stopped) replace(healthBox, errorBox(e));
    }
  };

  const mode = modeBanner(modeBox, { compact: false });

  void poll();
  void loadHistory();
  void loadFeeds();
  const timer = setInterval(() => void poll(), POLL_MS);
  const chartTimer = setInterval(drawChart, 30000);
  let resizeTimer = 0;
  const onResize = () => {
    clearTimeout(resizeTimer);
    resizeTimer = window.setTimeout(drawChart, 150);
  };
  window.addEventListener("resize", onResize);

  const off = onLive((e) => {
    if (e.type === "finding") {
      recentFindings.unshift({ ...e.data, created: new Date().toISOString() });
      findingTimes.push(Date.now());
      drawChart();
      drawAttackers();
    } else if (e.type === "decision") {
      const d = e.data.decision;
      const i = decisions.findIndex((x) => x.id === d.id);
      if (i >= 0) {
        decisions[i] = { ...decisions[i], ...d };
      } else {
        decisions.unshift({ ...d, created: d.created ?? new Date().toISOString() });
        decisionTimes.push(Date.now());
      }
      drawChart();
      drawAttackers();
      drawRecent();
      void poll();
    }
  });

  return () => {
    stopped = true;
    clearInterval(timer);
    clearInterval(chartTimer);
    window.removeEventListener("resize", onResize);
    off();
    mode();
  };
}

