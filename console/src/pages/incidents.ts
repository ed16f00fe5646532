// Incidents: the findings about one target grouped by the correlator. A list filtered by
// status (open by default), and one incident's detail: its findings as a timeline, the
// decisions taken on them, and acknowledge / close for analysts.

import { api, type Incident, type IncidentStatus } from "../api";
import { badge, field, fmtTime, h, relTime, replace, table } from "../dom";
import { onLive } from "../live";
import { act, ask, can, errorBox, pageHeader } from "../ui";

const STATUSES = ["open", "acknowledged", "closed", "all"];

function severityBadge(n: number): HTMLElement {
  const kind = n >= 8 ? "critical" : n >= 6 ? "high" : n >= 4 ? "medium" : "low";
  return badge(String(n), `sev-${kind}`);
}

export function renderIncidents(root: HTMLElement, params: URLSearchParams): () => void {
  const status = h("select", { name: "status" }, STATUSES.map((s) => h("option", { value: s, selected: s === (params.get("status") ?? "open") }, s)));
  const target = h("input", { type: "search", name: "target", value: params.get("target") ?? "", placeholder: "203.0.113.7" });
  const tableBox = h("div", { "aria-live": "polite" });
  const moreBox = h("div", { class: "more" });
  const detail = h("section", { class: "card incident-detail", "aria-label": "Incident", hidden: true });

  let rows: Incident[] = [];
  let cursor: string | null = null;
  let shown: string | null = null;

  const filters = () => ({ status: status.value, target: target.value.trim() || undefined });
  const matches = (i: Incident) => {
    const f = filters();
    return (f.status === "all" || f.status === i.status) && (!f.target || f.target === i.target);
  };

  const draw = () => {
    replace(
      tableBox,
      table(
        "Incidents matching the filters",
        [
          { label: "Severity", cell: (i) => severityBadge(i.severity) },
          { label: "Incident", cell: (i) => h("button", { type: "button", class: "link", "aria-label": `Open ${i.title}`, onclick: () => void show(i.id) }, i.title), className: "reason" },
          { label: "Status", cell: (i) => badge(i.status) },
          { label: "Findings", cell: (i) => String(i.findings) },
          { label: "Decisions", cell: (i) => String(i.decisions.length) },
          { label: "Last seen", cell: (i) => h("span", { title: fmtTime(i.last_seen) }, relTime(i.last_seen)) },
          { label: "", cell: (i) => statusActions(i), className: "actions" },
        ],
        rows,
        "No incidents match.",
      ),
    );
    replace(moreBox, cursor ? h("button", { type: "button", class: "secondary", onclick: () => void load(true) }, "Load more") : null);
  };

  // Acknowledge / close buttons (analysts), confirmed in a dialog with an optional note.
  const statusActions = (i: Incident): HTMLElement => {
    const out: HTMLElement[] = [];
    if (can("analyst") && i.status !== "closed") {
      const change = (to: IncidentStatus, label: string, cls: string) => {
        const b = h("button", { type: "button", class: cls, "aria-label": `${label} ${i.title}` }, label);
        b.addEventListener("click", async () => {
          const v = await ask(
            `${label}: ${i.title}?`,
            [to === "closed" ? "A closed incident is final: later findings on this target open a new one." : "Tells the team someone is on it; new findings still join it."],
            label,
            [{ name: "note", label: "Note" }],
          );
          if (!v) return;
          await act(b, async () => update(await api.setIncidentStatus(i.id, to, v.note || undefined)), `${i.target}: ${to}`);
        });
        return b;
      };
      if (i.status === "open") out.push(change("acknowledged", "Acknowledge", "secondary"));
      out.push(change("closed", "Close", "danger"));
    }
    return h("div", { class: "row-actions" }, out);
  };

  const update = (i: Incident) => {
    const at = rows.findIndex((r) => r.id === i.id);
    if (at >= 0) {
      if (matches(i)) rows[at] = { ...rows[at], ...i };
      else rows.splice(at, 1);
    } else if (matches(i)) {
      rows.unshift(i);
    }
    draw();
    if (shown === i.id) void show(i.id, false);
  };

  const load = async (more = false) => {
    try {
      const page = await api.incidents({ ...filters(), limit: 100, cursor: more && cursor ? cursor : undefined });
      rows = more ? rows.concat(page.items) : page.items;
      cursor = page.next_cursor;
      draw();
    } catch (e) {
      replace(tableBox, errorBox(e));
    }
  };

  const show = async (id: string, scroll = true) => {
    shown = id;
    detail.hidden = false;
    if (scroll) replace(detail, h("p", { class: "muted" }, "Loading…"));
    let i: Incident;
    try {
      i = await api.incident(id);
    } catch (e) {
      replace(detail, errorBox(e));
      return;
    }
    const findings = i.finding_items ?? [];
    const decisions = i.decision_items ?? [];
    replace(
      detail,
      h(
        "div",
        { class: "why-head" },
        h("h2", null, i.title),
        h("button", { type: "button", class: "secondary", onclick: () => { detail.hidden = true; shown = null; } }, "Close panel"),
      ),
      h(
        "dl",
        { class: "kv" },
        h("dt", null, "Status"),
        h("dd", null, badge(i.status), i.status_by ? ` by ${i.status_by} ${relTime(i.status_at)}${i.status_note ? `: ${i.status_note}` : ""}` : ""),
        h("dt", null, "Severity"),
        h("dd", null, severityBadge(i.severity), i.severity > i.finding_severity ? " (raised: several rules agree)" : ""),
        h("dt", null, "Target"),
        h("dd", { class: "mono" }, `${i.target} (${i.scope})`),
        h("dt", null, "Seen"),
        h("dd", null, `${fmtTime(i.first_seen)} → ${fmtTime(i.last_seen)}`),
        h("dt", null, "Rules"),
        h("dd", null, i.detectors.join(", ")),
        i.labels.length ? [h("dt", null, "Labels"), h("dd", null, i.labels.join(", "))] : null,
      ),
      statusActions(i),
      h("h3", null, `Findings (${i.findings})`),
      i.findings_omitted ? h("p", { class: "muted" }, `The ${i.findings_omitted} oldest are not listed.`) : null,
      findings.length === 0
        ? h("p", { class: "muted" }, "No findings stored.")
        : h(
            "ol",
            { class: "timeline" },
            findings.map((f) =>
              h(
                "li",
                null,
                h("span", { class: "muted" }, `${fmtTime(f.first_seen)} → ${fmtTime(f.last_seen)}`),
                " ",
                h("strong", null, f.detector),
                " ",
                severityBadge(f.severity),
                h("p", null, f.reason),
              ),
            ),
          ),
      h("h3", null, `Decisions (${decisions.length})`),
      decisions.length === 0
        ? h("p", { class: "muted" }, "No decision was taken on these findings.")
        : h(
            "ul",
            { class: "incident-decisions" },
            decisions.map((d) =>
              h(
                "li",
                null,
                h("a", { href: `#/decisions?state=all&target=${encodeURIComponent(d.target)}` }, `${d.action} ${d.target}`),
                " ",
                badge(d.state),
                ` until ${fmtTime(d.expires)}`,
              ),
            ),
          ),
    );
    if (scroll) detail.scrollIntoView({ block: "nearest" });
  };

  const form = h(
    "form",
    {
      class: "filters",
      role: "search",
      "aria-label": "Filter incidents",
      onsubmit: (e: Event) => {
        e.preventDefault();
        void load();
      },
    },
    field("Status", status),
    field("Target", target),
    h("button", { type: "submit", class: "primary" }, "Filter"),
  );
  status.addEventListener("change", () => void load());

  replace(root, pageHeader("Incidents"), form, tableBox, moreBox, detail);
  void load();
  if (params.get("id")) void show(params.get("id")!);

  return onLive((e) => {
    if (e.type === "incident") update(e.data);
  });
}
