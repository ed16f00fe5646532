// The dashboard's timeline: findings and decisions per time bucket, drawn as SVG bars (no chart
// library). The SVG scales to its container; the numbers are also in its accessible name.

import { svg } from "./dom";

export interface Series {
  label: string;
  className: string;
  times: number[]; // epoch ms
}

export interface TimelineOptions {
  end: number; // epoch ms, right edge
  span: number; // ms shown
  buckets: number;
}

export function bucketise(times: number[], o: TimelineOptions): number[] {
  const counts = new Array<number>(o.buckets).fill(0);
  const start = o.end - o.span;
  const width = o.span / o.buckets;
  for (const t of times) {
    if (t < start || t > o.end) continue;
    const i = Math.min(o.buckets - 1, Math.floor((t - start) / width));
    counts[i]++;
  }
  return counts;
}

function clock(t: number): string {
  const d = new Date(t);
  return `${String(d.getHours()).padStart(2, "0")}:${String(d.getMinutes()).padStart(2, "0")}`;
}

// `width`: the container's width in CSS pixels (the SVG is drawn at that size, so text keeps its
// proportions on any screen).
export function timeline(series: Series[], o: TimelineOptions, width = 600): SVGElement {
  const W = Math.max(240, Math.round(width));
  const H = 180;
  const left = 34;
  const right = 8;
  const top = 10;
  const bottom = 24;
  const plotW = W - left - right;
  const plotH = H - top - bottom;
  const counts = series.map((s) => bucketise(s.times, o));
  const max = Math.max(1, ...counts.flat());
  const niceMax = max <= 5 ? max : Math.ceil(max / 5) * 5;
  const totals = series.map((s, i) => `${counts[i].reduce((a, b) => a + b, 0)} ${s.label.toLowerCase()}`);
  const minutes = Math.round(o.span / 60000);
  const root = svg("svg", {
    viewBox: `0 0 ${W} ${H}`,
    width: W,
    height: H,
    class: "timeline",
    role: "img",
    "aria-label": `Timeline of the last ${minutes} minutes: ${totals.join(", ")}`,
  });
  // Grid and y labels.
  for (let k = 0; k <= 4; k++) {
    const v = (niceMax * k) / 4;
    const y = top + plotH - (plotH * k) / 4;
    root.appendChild(svg("line", { x1: left, x2: W - right, y1: y, y2: y, class: "grid" }));
    if (k === 0 || k === 4 || niceMax >= 4) {
      root.appendChild(svg("text", { x: left - 4, y: y + 3, class: "axis", "text-anchor": "end" }, String(Math.round(v))));
    }
  }
  // Bars: the series side by side within a bucket.
  const bw = plotW / o.buckets;
  const inner = Math.max(1, (bw * 0.8) / series.length);
  counts.forEach((c, si) => {
    const g = svg("g", { class: series[si].className });
    c.forEach((n, i) => {
      if (n === 0) return;
      const hgt = (plotH * n) / niceMax;
      const x = left + i * bw + bw * 0.1 + si * inner;
      const rect = svg("rect", { x, y: top + plotH - hgt, width: inner, height: hgt });
      const bucketStart = o.end - o.span + (i * o.span) / o.buckets;
      rect.appendChild(svg("title", {}, `${n} ${series[si].label.toLowerCase()} at ${clock(bucketStart)}`));
      g.appendChild(rect);
    });
    root.appendChild(g);
  });
  // x labels: five ticks.
  for (let k = 0; k <= 4; k++) {
    const t = o.end - o.span + (o.span * k) / 4;
    const x = left + (plotW * k) / 4;
    root.appendChild(
      svg("text", { x, y: H - 6, class: "axis", "text-anchor": k === 0 ? "start" : k === 4 ? "end" : "middle" }, clock(t)),
    );
  }
  root.appendChild(svg("line", { x1: left, x2: W - right, y1: top + plotH, y2: top + plotH, class: "baseline" }));
  return root;
}
