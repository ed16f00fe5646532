// Decisions: filterable table, revoke / extend, and "why": finding → rule or model score →
// intel hit → evidence events.

import { api, ApiError, type Decision, type Rule } from "../api";
import { badge, field, fmtTime, h, relTime, replace, table } from "../dom";
import { onLive } from "../live";
import { act, ask, can, errorBox, pageHeader } from "../ui";

const STATES = ["active", "pending-approval", "dry-run", "expired", "revoked", "failed", "all"];

export function renderDecisions(root: HTMLElement, params: URLSearchParams): () => void {
  const state = h("select", { name: "state" }, STATES.map((s) => h("option", { value: s, selected: s === (params.get("state") ?? "active") }, s)));
  const target = h("input", { type: "search", name: "target", value: params.get("target") ?? "", placeholder: "203.0.113.7" });
  const action = h("input", { type: "search", name: "action", value: params.get("action") ?? "", placeholder: "block" });
  const detector = h("input", { type: "search", name: "detector", value: params.get("detector") ?? "", placeholder: "ssh-bf" });
  const tableBox = h("div", { "aria-live": "polite" });
  const moreBox = h("div", { class: "more" });
  const whyBox = h("section", { class: "card why", "aria-label": "Why", hidden: true });

  let rows: Decision[] = [];
  let cursor: string | null = null;

  const filters = () => ({
    state: state.value,
    target: target.value.trim() || undefined,
    action: action.value.trim() || undefined,
    detector: detector.value.trim() || undefined,
  });

  const draw = () => {
    replace(
      tableBox,
      table(
        "Decisions matching the filters",
        [
          { label: "Target", cell: (d) => d.target, className: "mono" },
          { label: "Action", cell: (d) => d.action },
          { label: "State", cell: (d) => badge(d.state) },
          { label: "Detector", cell: (d) => d.detector },
          { label: "Reason", cell: (d) => d.reason, className: "reason" },
          { label: "Created", cell: (d) => fmtTime(d.created ?? d.last_seen) },
          { label: "Expires", cell: (d) => h("span", { title: fmtTime(d.expires) }, relTime(d.expires)) },
          { label: "", cell: (d) => rowActions(d), className: "actions" },
        ],
        rows,
        "No decisions match.",
      ),
    );
    replace(
      moreBox,
      cursor ? h("button", { type: "button", class: "secondary", onclick: () => void load(true) }, "Load more") : null,
    );
  };

  const rowActions = (d: Decision) => {
    const out: HTMLElement[] = [
      h("button", { type: "button", class: "link", "aria-label": `Why ${d.target}`, onclick: () => void showWhy(d) }, "Why"),
    ];
    if (can("analyst") && (d.state === "active" || d.state === "pending-approval")) {
      const ext = h("button", { type: "button", class: "secondary", "aria-label": `Extend ${d.target}` }, "Extend");
      ext.addEventListener("click", async () => {
        const v = await ask(`Extend the ${d.action} of ${d.target}`, [`It now expires ${relTime(d.expires)} (${fmtTime(d.expires)}).`], "Extend", [
          { name: "duration", label: "New lifetime, from now", value: "24h", options: ["1h", "4h", "24h", "7d", "30d"] },
        ]);
        if (!v) return;
        await act(ext, async () => replaceRow(await api.extend(d.id, v.duration)), `${d.target}: extended by ${v.duration}`);
      });
      const rev = h("button", { type: "button", class: "danger", "aria-label": `Revoke ${d.target}` }, "Revoke");
      rev.addEventListener("click", async () => {
        const v = await ask(
          `Revoke the ${d.action} of ${d.target}?`,
          ["The action is undone now (the address is unblocked) and the revocation is audited under your name."],
          "Revoke",
          [{ name: "reason", label: "Reason", value: "" }],
          true,
        );
        if (!v) return;
        await act(rev, async () => replaceRow(await api.revoke(d.id, v.reason)), `${d.target}: revoked`);
      });
      out.push(ext, rev);
    }
    return h("div", { class: "row-actions" }, out);
  };

  const replaceRow = (d: Decision) => {
    const i = rows.findIndex((r) => r.id === d.id);
    const f = filters();
    const matches = f.state === "all" || f.state === d.state;
    if (i >= 0) {
      if (matches) rows[i] = { ...rows[i], ...d };
      else rows.splice(i, 1);
    }
    draw();
  };

  const load = async (more = false) => {
    try {
      const page = await api.decisions({ ...filters(), limit: 100, cursor: more && cursor ? cursor : undefined });
      rows = more ? rows.concat(page.items) : page.items;
      cursor = page.next_cursor;
      draw();
    } catch (e) {
      replace(tableBox, errorBox(e));
    }
  };

  // Marks a finding as a false positive (or takes the mark back): audited; analysts.
  const fpControl = (id: string, fp: boolean): HTMLElement => {
    const state = h("span", null, fp ? "yes" : "no");
    if (!can("analyst")) return state;
    const btn = h("button", { type: "button", class: "secondary small" }, fp ? "Remove the mark" : "Mark as false positive");
    btn.addEventListener("click", () => {
      void act(btn, async () => {
        const f = await api.markFalsePositive(id, !fp);
        btn.replaceWith(fpControl(id, f.false_positive ?? !fp));
        state.remove();
      }, fp ? "False-positive mark removed" : "Finding marked as a false positive");
    });
    return h("span", { class: "row-actions" }, state, btn);
  };

  const showWhy = async (d: Decision) => {
    whyBox.hidden = false;
    replace(whyBox, h("h2", null, `Why ${d.target}`), h("p", { class: "muted" }, "Loading…"));
    const steps: HTMLElement[] = [];
    steps.push(
      h(
        "li",
        null,
        h("h3", null, "Decision"),
        h("p", null, `${d.action} ${d.target} (${d.state}), by ${d.detector}${d.origin ? ` via ${d.origin}` : ""}: ${d.reason}`),
      ),
    );
    if (!d.finding_id) {
      steps.push(h("li", null, h("h3", null, "Finding"), h("p", { class: "muted" }, "Taken by a person; no finding behind it.")));
    } else {
      try {
        const f = await api.finding(d.finding_id);
        steps.push(
          h(
            "li",
            null,
            h("h3", null, "Finding"),
            h("p", null, `${f.reason}`),
            h(
              "dl",
              { class: "kv" },
              h("dt", null, "Severity"),
              h("dd", null, String(f.severity)),
              h("dt", null, "Events"),
              h("dd", null, String(f.events)),
              h("dt", null, "Seen"),
              h("dd", null, `${fmtTime(f.first_seen)} → ${fmtTime(f.last_seen)}`),
              f.labels?.length ? [h("dt", null, "Labels"), h("dd", null, f.labels.join(", "))] : null,
              h("dt", null, "False positive"),
              h("dd", null, fpControl(f.id, f.false_positive ?? false)),
            ),
          ),
        );
        let rule: Rule | undefined;
        try {
          rule = (await api.rules()).items.find((r) => r.id === f.detector);
        } catch {
          rule = undefined;
        }
        const intelFinding = f.labels?.includes("threat-intel");
        steps.push(
          h(
            "li",
            null,
            h("h3", null, rule ? "Rule" : "Detector and score"),
            rule
              ? h("p", null, `${rule.id} — ${rule.name}${rule.description ? `: ${rule.description}` : ""} (${rule.file.split("/").slice(-2).join("/")}:${rule.line}, ${rule.mode})`)
              : h("p", null, `${f.detector}, score ${f.score.toFixed(2)}`),
          ),
        );
        const intelStep = h("li", null, h("h3", null, "Threat intel"), h("p", { class: "muted" }, "Looking up…"));
        steps.push(intelStep);
        void api
          .intel(d.target)
          .then((r) => {
            replace(
              intelStep,
              h("h3", null, "Threat intel"),
              r.matches.length === 0
                ? h("p", { class: "muted" }, intelFinding ? "The indicator has since left the intel database." : "No intel source lists this target.")
                : h(
                    "ul",
                    null,
                    r.matches.map((m) =>
                      h("li", null, `${m.type} ${m.value}: score ${m.score}, sources ${m.sources.map((s) => s.source).join(", ")}; valid until ${fmtTime(m.valid_until)}`),
                    ),
                  ),
            );
          })
          .catch((e) => {
            replace(
              intelStep,
              h("h3", null, "Threat intel"),
              h("p", { class: "muted" }, e instanceof ApiError && e.code === "no_intel" ? "No intel database is configured." : String(e.message ?? e)),
            );
          });
        const ev = [...(f.evidence ?? [])].sort((a, b) => a.timestamp.localeCompare(b.timestamp) || a.offset - b.offset);
        steps.push(
          h(
            "li",
            null,
            h("h3", null, `Evidence events (${ev.length}${f.events > ev.length ? ` of ${f.events}` : ""})`),
            ev.length === 0
              ? h("p", { class: "muted" }, "No events stored.")
              : h("ol", { class: "evidence" }, ev.map((e) => h("li", null, h("span", { class: "muted" }, `${fmtTime(e.timestamp)} ${e.source}:${e.offset}`), h("pre", null, e.raw)))),
          ),
        );
      } catch (e) {
        steps.push(h("li", null, h("h3", null, "Finding"), errorBox(e)));
      }
    }
    replace(
      whyBox,
      h(
        "div",
        { class: "why-head" },
        h("h2", null, `Why ${d.target}`),
        h("button", { type: "button", class: "secondary", onclick: () => (whyBox.hidden = true) }, "Close"),
      ),
      h("ol", { class: "chain" }, steps),
    );
    whyBox.scrollIntoView({ block: "nearest" });
  };

  const form = h(
    "form",
    {
      class: "filters",
      role: "search",
      "aria-label": "Filter decisions",
      onsubmit: (e: Event) => {
        e.preventDefault();
        void load();
      },
    },
    field("State", state),
    field("Target", target),
    field("Action", action),
    field("Detector", detector),
    h("button", { type: "submit", class: "primary" }, "Filter"),
  );
  state.addEventListener("change", () => void load());

  const addBtn = can("analyst") ? h("button", { type: "button", class: "primary" }, "Add decision") : null;
  addBtn?.addEventListener("click", async () => {
    const v = await ask("Block an address", ["A person's decision: enforced now, also in manual mode."], "Block", [
      { name: "target", label: "IP address or CIDR range", required: true },
      { name: "duration", label: "Duration", value: "4h", options: ["1h", "4h", "24h", "7d", "30d"] },
      { name: "reason", label: "Reason" },
    ]);
    if (!v) return;
    await act(addBtn, async () => {
      await api.addDecision({ target: v.target.trim(), duration: v.duration, reason: v.reason || undefined });
      await load();
    }, `${v.target}: blocked`);
  });

  replace(root, pageHeader("Decisions", addBtn), form, tableBox, moreBox, whyBox);
  void load();

  return onLive((e) => {
    if (e.type !== "decision") return;
    const d = e.data.decision;
    const i = rows.findIndex((r) => r.id === d.id);
    const f = filters();
    const matches = (f.state === "all" || f.state === d.state) && (!f.target || f.target === d.target);
    if (i >= 0) {
      if (matches) rows[i] = { ...rows[i], ...d };
      else rows.splice(i, 1);
    } else if (matches && (!f.action || f.action === d.action) && (!f.detector || f.detector === d.detector)) {
      rows.unshift({ ...d, created: d.created ?? new Date().toISOString() });
    }
    draw();
  });
}
