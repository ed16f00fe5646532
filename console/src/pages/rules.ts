// Rules: every loaded rule with hit counts and its mode (enabled / disabled / shadow; admins
// change it, kept across restarts), reload with the loader's diagnostics (file:line:col:
// message), and the diagnostics of the last load (start-up, reload, SIGHUP) at any time.

import { api, ApiError, type Rule } from "../api";
import { badge, fmtTime, h, replace, table } from "../dom";
import { act, can, errorBox, pageHeader } from "../ui";

const MODES = ["enabled", "disabled", "shadow"] as const;

function diagnosticsList(lines: string[]): HTMLElement {
  return h(
    "ul",
    { class: "diagnostics" },
    lines.map((l) => {
      // "file:line:col: [code] message" — the position in its own element.
      const m = /^(.+?:\d+(?::\d+)?):\s*(.*)$/.exec(l);
      return h("li", null, m ? [h("code", { class: "pos" }, m[1]), " ", m[2]] : l);
    }),
  );
}

export function renderRules(root: HTMLElement): () => void {
  const filter = h("input", { type: "search", placeholder: "id, name or file", "aria-label": "Filter rules" });
  const errorsBox = h("section", { class: "card", "aria-labelledby": "re-h", hidden: true });
  const tableBox = h("div");
  let rules: Rule[] = [];

  const setBy = (r: Rule) =>
    r.mode_set_by
      ? h("small", { class: "muted" }, ` set by ${r.mode_set_by}${r.mode_since ? ` ${fmtTime(r.mode_since)}` : ""} (file: ${r.file_mode ?? "?"})`)
      : null;

  const modeControl = (r: Rule) => {
    if (!can("admin")) return [badge(r.mode), setBy(r)];
    const sel = h("select", { "aria-label": `Mode of ${r.id}` }, MODES.map((m) => h("option", { value: m, selected: m === r.mode }, m)));
    sel.addEventListener("change", () => {
      const want = sel.value;
      void act(null, async () => {
        try {
          await api.setRuleMode(r.id, want);
          r.mode = want as Rule["mode"];
          await load();
        } catch (e) {
          sel.value = r.mode;
          throw e;
        }
      }, `${r.id}: ${want}`);
    });
    return [sel, setBy(r)];
  };

  const draw = () => {
    const q = filter.value.trim().toLowerCase();
    const rows = rules.filter((r) => !q || `${r.id} ${r.name} ${r.file}`.toLowerCase().includes(q));
    replace(
      tableBox,
      table(
        `${rows.length} of ${rules.length} rules`,
        [
          { label: "Rule", cell: (r) => [h("strong", null, r.id), h("br"), h("small", null, r.name)] },
          { label: "Detector", cell: (r) => r.detector },
          { label: "Severity", cell: (r) => r.severity },
          { label: "Action", cell: (r) => r.action },
          { label: "Matches", cell: (r) => r.matches.toLocaleString() },
          { label: "Findings", cell: (r) => r.findings.toLocaleString() },
          { label: "Mode", cell: modeControl },
          { label: "Defined in", cell: (r) => h("code", null, `${r.file.split("/").slice(-2).join("/")}:${r.line}`) },
        ],
        rows,
        "No rules loaded.",
      ),
    );
  };

  const load = async () => {
    try {
      rules = (await api.rules()).items;
      draw();
    } catch (e) {
      replace(tableBox, errorBox(e));
    }
    try {
      const errs = await api.ruleErrors();
      const when = errs.loaded_at ? ` (${errs.rejected ? "reload refused" : "loaded"} ${fmtTime(errs.loaded_at)}${errs.loaded_by ? ` by ${errs.loaded_by}` : ""})` : "";
      showErrors(
        errs.items,
        errs.rejected ? `Load errors: the running rules stay${when}` : (errs.errors ?? 0) > 0 ? `Load errors${when}` : `Load warnings${when}`,
      );
    } catch {
      // Older servers report load errors only on reload.
    }
  };

  const showErrors = (lines: string[], title: string) => {
    errorsBox.hidden = lines.length === 0;
    replace(errorsBox, h("h2", { id: "re-h" }, title), diagnosticsList(lines));
  };

  const reload = can("admin") ? h("button", { type: "button", class: "secondary" }, "Reload rules") : null;
  reload?.addEventListener("click", () => {
    void act(reload, async () => {
      try {
        const r = await api.reloadRules();
        showErrors([], "");
        await load();
        return r;
      } catch (e) {
        if (e instanceof ApiError && e.status === 422) {
          const d = (e.body as { diagnostics?: string[] }).diagnostics ?? [];
          showErrors(d, "Load errors (the running rules stay)");
        }
        throw e;
      }
    }, "Rules reloaded");
  });

  filter.addEventListener("input", draw);
  replace(root, pageHeader("Rules", filter, reload), errorsBox, tableBox);
  void load();
  return () => {};
}
