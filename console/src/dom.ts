// Small DOM helpers: the console builds its markup with these (no framework, no innerHTML of
// server data, so nothing the API returns is ever parsed as HTML).

type Child = Node | string | number | null | undefined | false;
type Attrs = Record<string, string | number | boolean | null | undefined | EventListener>;

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs | null = null,
  ...children: (Child | Child[])[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  if (attrs) {
    for (const [k, v] of Object.entries(attrs)) {
      if (v === null || v === undefined || v === false) continue;
      if (k.startsWith("on") && typeof v === "function") {
        el.addEventListener(k.slice(2).toLowerCase(), v as EventListener);
      } else if (k === "class") {
        el.className = String(v);
      } else if (v === true) {
        el.setAttribute(k, "");
      } else {
        el.setAttribute(k, String(v));
      }
    }
  }
  append(el, children);
  return el;
}

export function append(el: Node, children: (Child | Child[])[]): void {
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.appendChild(typeof c === "string" || typeof c === "number" ? document.createTextNode(String(c)) : c);
  }
}

export function clear(el: Element): void {
  while (el.firstChild) el.removeChild(el.firstChild);
}

export function replace(el: Element, ...children: (Child | Child[])[]): void {
  clear(el);
  append(el, children);
}

const SVG_NS = "http://www.w3.org/2000/svg";
export function svg(tag: string, attrs: Record<string, string | number> = {}, ...children: (SVGElement | string)[]): SVGElement {
  const el = document.createElementNS(SVG_NS, tag) as SVGElement;
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  for (const c of children) el.appendChild(typeof c === "string" ? document.createTextNode(c) : c);
  return el;
}

// "3m 12s", "2h 5m", "4d 1h": a duration for people.
export function humanDuration(ms: number): string {
  const neg = ms < 0;
  let s = Math.floor(Math.abs(ms) / 1000);
  const d = Math.floor(s / 86400);
  s -= d * 86400;
  const hh = Math.floor(s / 3600);
  s -= hh * 3600;
  const m = Math.floor(s / 60);
  s -= m * 60;
  let out: string;
  if (d > 0) out = `${d}d ${hh}h`;
  else if (hh > 0) out = `${hh}h ${m}m`;
  else if (m > 0) out = `${m}m ${s}s`;
  else out = `${s}s`;
  return neg ? `-${out}` : out;
}

export function fmtTime(iso: string | null | undefined): string {
  if (!iso) return "—";
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return iso;
  const d = new Date(t);
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

export function relTime(iso: string | null | undefined, now = Date.now()): string {
  if (!iso) return "—";
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return iso;
  const diff = t - now;
  return diff >= 0 ? `in ${humanDuration(diff)}` : `${humanDuration(-diff)} ago`;
}

// A table whose cells carry their column name (data-label), so narrow screens can show each
// row as a card.
export interface Column<T> {
  label: string;
  cell: (row: T) => Child | Child[];
  className?: string;
}

export function table<T>(caption: string, columns: Column<T>[], rows: T[], empty = "Nothing to show."): HTMLElement {
  const thead = h("thead", null, h("tr", null, columns.map((c) => h("th", { scope: "col" }, c.label))));
  const tbody = h("tbody");
  if (rows.length === 0) {
    tbody.appendChild(h("tr", null, h("td", { colspan: columns.length, class: "empty" }, empty)));
  }
  for (const r of rows) {
    tbody.appendChild(
      h("tr", null, columns.map((c) => h("td", { "data-label": c.label, class: c.className ?? null }, c.cell(r)))),
    );
  }
  return h("div", { class: "table-wrap" }, h("table", { class: "data" }, h("caption", null, caption), thead, tbody));
}

export function field(label: string, control: HTMLElement, hint?: string): HTMLElement {
  const id = control.id || `f-${Math.random().toString(36).slice(2, 9)}`;
  control.id = id;
  return h("div", { class: "field" }, h("label", { for: id }, label), control, hint ? h("small", null, hint) : null);
}

export function badge(text: string, kind = text): HTMLElement {
  return h("span", { class: `badge badge-${kind.replace(/[^a-z0-9-]/gi, "-").toLowerCase()}` }, text);
}
