// Approvals queue: decisions proposed in manual mode (or by actions that need a second person),
// with their context, approve / reject, and a countdown to what happens if nobody answers.

import { api, type Decision } from "../api";
import { fmtTime, h, humanDuration, replace } from "../dom";
import { onLive } from "../live";
import { act, ask, can, errorBox, pageHeader } from "../ui";

export function renderApprovals(root: HTMLElement, onCount: (n: number) => void): () => void {
  const list = h("div", { class: "approvals", "aria-live": "polite" });
  let items: Decision[] = [];
  const countdowns: { el: HTMLElement; d: Decision }[] = [];

  const deadline = (d: Decision) => Date.parse(d.default_at ?? d.expires);
  const defaultText = (d: Decision) =>
    d.default_action ? `then ${d.default_action}` : "then it lapses unenforced";

  const tick = () => {
    const now = Date.now();
    for (const c of countdowns) {
      const left = deadline(c.d) - now;
      c.el.textContent = left > 0 ? `${humanDuration(left)} left, ${defaultText(c.d)}` : `lapsed (${defaultText(c.d)})`;
      c.el.classList.toggle("urgent", left < 5 * 60 * 1000);
    }
  };

  const card = (d: Decision) => {
    const cd = h("span", { class: "countdown", role: "timer", "aria-label": `Time left for ${d.target}` });
    countdowns.push({ el: cd, d });
    const evidence = h("details", null, h("summary", null, "Evidence"));
    evidence.addEventListener(
      "toggle",
      () => {
        if (!evidence.open || evidence.dataset.loaded || !d.finding_id) return;
        evidence.dataset.loaded = "1";
        api
          .finding(d.finding_id)
          .then((f) =>
            evidence.appendChild(
              h(
                "div",
                null,
                h("p", null, f.reason),
                h("ol", { class: "evidence" }, (f.evidence ?? []).slice(0, 20).map((e) => h("li", null, h("pre", null, e.raw)))),
              ),
            ),
          )
          .catch((e) => evidence.appendChild(errorBox(e)));
      },
    );
    const approve = h("button", { type: "button", class: "primary", "aria-label": `Approve ${d.action} of ${d.target}`, disabled: !can("analyst") }, "Approve");
    const reject = h("button", { type: "button", class: "danger", "aria-label": `Reject ${d.action} of ${d.target}`, disabled: !can("analyst") }, "Reject");
    approve.addEventListener("click", () => {
      void act(approve, async () => {
        await api.approve(d.id);
        remove(d.id);
      }, `${d.target}: approved, ${d.action} enforced`);
    });
    reject.addEventListener("click", async () => {
      const v = await ask(`Reject the ${d.action} of ${d.target}?`, ["Nothing is enforced; the rejection is audited under your name."], "Reject", [
        { name: "reason", label: "Reason" },
      ], true);
      if (!v) return;
      await act(reject, async () => {
        await api.reject(d.id, v.reason);
        remove(d.id);
      }, `${d.target}: rejected`);
    });
    return h(
      "article",
      { class: "card approval", "aria-label": `Approval for ${d.target}` },
      h("h2", null, h("span", { class: "mono" }, d.target), " ", h("span", { class: "muted" }, `${d.action} · ${d.scope}`)),
      h("p", null, d.reason),
      h(
        "dl",
        { class: "kv" },
        h("dt", null, "Detector"),
        h("dd", null, d.detector),
        h("dt", null, "Events"),
        h("dd", null, String(d.events)),
        h("dt", null, "Seen"),
        h("dd", null, `${fmtTime(d.first_seen)} → ${fmtTime(d.last_seen)}`),
        h("dt", null, "Proposed"),
        h("dd", null, fmtTime(d.created ?? d.last_seen)),
        h("dt", null, "Default"),
        h("dd", null, cd),
      ),
      d.finding_id ? evidence : null,
      h("div", { class: "row-actions" }, approve, reject),
    );
  };

  const draw = () => {
    countdowns.length = 0;
    onCount(items.length);
    replace(
      list,
      items.length === 0
        ? h("p", { class: "muted empty-state" }, "No decision waits for approval.")
        : items.map(card),
    );
    tick();
  };

  const remove = (id: string) => {
    items = items.filter((d) => d.id !== id);
    draw();
  };

  const load = async () => {
    try {
      items = (await api.approvals({ limit: 200 })).items;
      draw();
    } catch (e) {
      replace(list, errorBox(e));
    }
  };

  replace(
    root,
    pageHeader("Approvals", h("button", { type: "button", class: "secondary", onclick: () => void load() }, "Refresh")),
    h("p", { class: "muted" }, "High-risk and manual-mode decisions wait here until a person approves or rejects them."),
    list,
  );
  void load();
  const timer = setInterval(tick, 1000);
  const off = onLive((e) => {
    if (e.type !== "decision") return;
    const d = e.data.decision;
    if (d.state === "pending-approval") {
      if (!items.some((x) => x.id === d.id)) items.unshift({ ...d, created: d.created ?? new Date().toISOString() });
    } else {
      items = items.filter((x) => x.id !== d.id);
    }
    draw();
  });
  return () => {
    clearInterval(timer);
    off();
  };
}
