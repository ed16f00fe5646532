// The engine's mode (auto / manual) with the one-click switch to manual (admins). Manual mode:
// new decisions are proposed (pending approval) and nothing is enforced until a person approves.

import { api, type Mode } from "../api";
import { badge, fmtTime, h, replace } from "../dom";
import { onLive } from "../live";
import { act, can, errorBox } from "../ui";

export function modeBanner(box: HTMLElement, _opts: { compact: boolean }): () => void {
  let current: Mode | null = null;

  const draw = () => {
    if (!current) return;
    const manual = current.mode === "manual";
    const btn = h(
      "button",
      {
        type: "button",
        class: manual ? "secondary" : "danger big",
        disabled: !can("admin"),
        title: can("admin") ? null : "Only admins change the mode",
      },
      manual ? "Return to automatic mode" : "Switch to manual mode",
    );
    btn.addEventListener("click", () => {
      void act(
        btn,
        async () => {
          current = { ...(await api.setMode(manual ? "auto" : "manual")) };
          draw();
        },
        manual ? "Automatic mode resumed" : "Manual mode: new decisions now wait for approval",
      );
    });
    replace(
      box,
      h("h2", null, "Mode"),
      h(
        "div",
        { class: "mode-row" },
        h("p", { class: "mode-now" }, "Current mode: ", badge(manual ? "manual" : "auto", manual ? "manual" : "auto")),
        btn,
      ),
      h(
        "p",
        { class: "muted" },
        manual
          ? [
              "Decisions are proposed, not enforced, until approved.",
              current.reason ? `Reason: ${current.reason}.` : "",
              current.since || current.actor
                ? `Manual${current.since ? ` since ${fmtTime(current.since)}` : ""}${current.actor ? `, set by ${current.actor}` : ""}.`
                : "",
            ]
              .filter(Boolean)
              .join(" ")
          : "Decisions are enforced as they are made. Manual mode stops every new block until a person approves it.",
      ),
      can("admin") ? null : h("p", { class: "muted" }, "Only admins change the mode."),
    );
  };

  api
    .mode()
    .then((m) => {
      current = m;
      draw();
    })
    .catch((e) => replace(box, h("h2", null, "Mode"), errorBox(e)));

  return onLive((e) => {
    if (e.type === "mode") {
      current = { ...(current ?? { mode: e.data.mode }), ...e.data, since: new Date().toISOString() };
      draw();
    }
  });
}
