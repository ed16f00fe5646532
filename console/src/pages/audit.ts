// Audit log: the hash-chained record of every change, filtered, with the chain's verification.

import { api, type AuditEntry } from "../api";
import { badge, field, fmtTime, h, replace, table } from "../dom";
import { errorBox, pageHeader } from "../ui";

export function renderAudit(root: HTMLElement): () => void {
  const kind = h("input", { type: "search", name: "kind", placeholder: "decision.revoked" });
  const actor = h("input", { type: "search", name: "actor", placeholder: "api:alice" });
  const target = h("input", { type: "search", name: "target" });
  const verifyBox = h("section", { class: "card verify", "aria-label": "Chain verification", "aria-live": "polite" });
  const tableBox = h("div");
  const moreBox = h("div", { class: "more" });
  let rows: AuditEntry[] = [];
  let cursor: string | null = null;

  const verify = async () => {
    replace(verifyBox, h("p", { class: "muted" }, "Verifying the hash chain…"));
    try {
      const v = await api.verifyAudit();
      replace(
        verifyBox,
        h(
          "p",
          { class: v.ok ? "ok" : "error", role: v.ok ? "status" : "alert" },
          v.ok ? badge("chain intact", "ok") : badge("chain broken", "bad"),
          " ",
          v.ok ? `All ${v.entries} entries verify (each hash covers its content and the previous hash).` : `${v.error ?? "verification failed"} (${v.entries} entries read)`,
        ),
        h("button", { type: "button", class: "secondary", onclick: () => void verify() }, "Verify again"),
      );
    } catch (e) {
      replace(verifyBox, errorBox(e));
    }
  };

  const draw = () => {
    replace(
      tableBox,
      table(
        "Audit entries, newest first",
        [
          { label: "Seq", cell: (a) => a.seq },
          { label: "Time", cell: (a) => fmtTime(a.time) },
          { label: "Actor", cell: (a) => a.actor },
          { label: "Kind", cell: (a) => h("code", null, a.kind) },
          { label: "Target", cell: (a) => a.target, className: "mono" },
          { label: "Reason", cell: (a) => a.reason, className: "reason" },
          { label: "Hash", cell: (a) => h("code", { title: a.hash, class: "hash" }, a.hash.slice(0, 12)) },
        ],
        rows,
        "No audit entries match.",
      ),
    );
    replace(moreBox, cursor ? h("button", { type: "button", class: "secondary", onclick: () => void load(true) }, "Load more") : null);
  };

  const load = async (more = false) => {
    try {
      const page = await api.audit({
        kind: kind.value.trim() || undefined,
        actor: actor.value.trim() || undefined,
        target: target.value.trim() || undefined,
        limit: 100,
        cursor: more && cursor ? cursor : undefined,
      });
      rows = more ? rows.concat(page.items) : page.items;
      cursor = page.next_cursor;
      draw();
    } catch (e) {
      replace(tableBox, errorBox(e));
    }
  };

  replace(
    root,
    pageHeader("Audit log"),
    verifyBox,
    h(
      "form",
      {
        class: "filters",
        role: "search",
        "aria-label": "Filter audit entries",
        onsubmit: (e: Event) => {
          e.preventDefault();
          void load();
        },
      },
      field("Kind", kind),
      field("Actor", actor),
      field("Target", target),
      h("button", { type: "submit", class: "primary" }, "Filter"),
    ),
    tableBox,
    moreBox,
  );
  void verify();
  void load();
  return () => {};
}
