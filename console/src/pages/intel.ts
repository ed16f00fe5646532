// Intel look-up: an IP, domain or hash against the indicator database: every source, score,
// expiry.

import { api, ApiError } from "../api";
import { badge, field, fmtTime, h, relTime, replace, table } from "../dom";
import { errorBox, pageHeader } from "../ui";

export function renderIntel(root: HTMLElement, params: URLSearchParams): () => void {
  const input = h("input", { type: "search", name: "value", required: true, value: params.get("value") ?? "", placeholder: "198.51.100.7, evil.example or a hash", autocomplete: "off" });
  const out = h("div", { "aria-live": "polite" });

  const lookup = async () => {
    const v = input.value.trim();
    if (!v) return;
    replace(out, h("p", { class: "muted" }, "Looking up…"));
    try {
      const r = await api.intel(v);
      const head = h(
        "p",
        null,
        r.normalised ? `${r.normalised.type} ${r.normalised.value}: ` : "",
        r.matches.length === 0 ? "no source lists it." : `${r.matches.length} indicator(s) match.`,
      );
      replace(
        out,
        r.error ? h("p", { class: "error", role: "alert" }, r.error) : head,
        r.matches.map((m) =>
          h(
            "section",
            { class: "card", "aria-label": `Indicator ${m.value}` },
            h("h2", null, h("span", { class: "mono" }, m.value), " ", badge(m.type, "none"), " ", badge(`score ${m.score}`, m.score >= 70 ? "bad" : "warn")),
            h("p", null, `Valid until ${fmtTime(m.valid_until)} (${relTime(m.valid_until)})`),
            table(
              `Sources listing ${m.value}`,
              [
                { label: "Source", cell: (s) => s.source },
                { label: "Confidence", cell: (s) => s.confidence },
                { label: "TLP", cell: (s) => s.tlp ?? "—" },
                { label: "First seen", cell: (s) => fmtTime(s.first_seen) },
                { label: "Last seen", cell: (s) => fmtTime(s.last_seen) },
                { label: "Expires", cell: (s) => fmtTime(s.valid_until) },
                { label: "Tags", cell: (s) => s.tags.join(", ") },
                { label: "Reference", cell: (s) => s.reference },
              ],
              m.sources,
            ),
          ),
        ),
      );
    } catch (e) {
      if (e instanceof ApiError && e.code === "no_intel") {
        replace(out, h("p", { class: "muted" }, "No intel database is configured on this server (detectors: type intel, db: …)."));
      } else {
        replace(out, errorBox(e));
      }
    }
  };

  replace(
    root,
    pageHeader("Intel look-up"),
    h(
      "form",
      {
        class: "filters",
        role: "search",
        "aria-label": "Intel look-up",
        onsubmit: (e: Event) => {
          e.preventDefault();
          void lookup();
        },
      },
      field("IP address, domain or hash", input),
      h("button", { type: "submit", class: "primary" }, "Look up"),
    ),
    out,
  );
  if (input.value) void lookup();
  input.focus();
  return () => {};
}
