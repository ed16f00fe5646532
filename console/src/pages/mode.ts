// The engine's mode (auto / manual / dry-run) with the one-click switch to manual (admins).
// Manual mode: new decisions are proposed (pending approval) and nothing is enforced until a
// person approves. Dry-run mode: decisions are recorded (state dry-run), nothing is enforced.

import { api, type EngineModeName, type Mode } from "../api";
import { badge, fmtTime, h, replace } from "../dom";
import { onLive } from "../live";
import { act, can, errorBox } from "../ui";

export function modeBanner(box: HTMLElement, _opts: { compact: boolean }): () => void {
  let current: Mode | null = null;

  const switchButton = (to: EngineModeName, label: string, cls: string, done: string) => {
    const btn = h(
      "button",
      {
        type: "button",
        class: cls,
        disabled: !can("admin"),
        title: can("admin") ? null : "Only admins change the mode",
      },
      label,
    );
    btn.addEventListener("click", () => {
      void act(
        btn,
        async () => {
          current = { ...(await api.setMode(to)) };
          draw();
        },
        done,
      );
    });
    return btn;
  };

  const draw = () => {
    if (!current) return;
    const mode = current.mode;
    const buttons =
      mode === "auto"
        ? [
            switchButton("manual", "Switch to manual mode", "danger big", "Manual mode: new decisions now wait for approval"),
            switchButton("dry-run", "Switch to dry-run mode", "secondary", "Dry-run mode: decisions are recorded, nothing is enforced"),
          ]
        : [
            switchButton("auto", "Return to automatic mode", "secondary", "Automatic mode resumed"),
            mode === "manual"
              ? switchButton("dry-run", "Switch to dry-run mode", "secondary", "Dry-run mode: decisions are recorded, nothing is enforced")
              : switchButton("manual", "Switch to manual mode", "danger big", "Manual mode: new decisions now wait for approval"),
          ];
    const who =
      current.since || current.actor
        ? `${mode === "manual" ? "Manual" : "Dry run"}${current.since ? ` since ${fmtTime(current.since)}` : ""}${current.actor ? `, set by ${current.actor}` : ""}.`
        : "";
    const text =
      mode === "auto"
        ? "Decisions are enforced as they are made. Manual mode stops every new block until a person approves it; dry-run mode records decisions and enforces none."
        : [
            mode === "manual"
              ? "Decisions are proposed, not enforced, until approved."
              : "Decisions are recorded (state dry-run) and nothing is enforced; decisions a person takes still are.",
            current.reason ? `Reason: ${current.reason}.` : "",
            who,
          ]
            .filter(Boolean)
            .join(" ");
    replace(
      box,
      h("h2", null, "Mode"),
      h(
        "div",
        { class: "mode-row" },
        h("p", { class: "mode-now" }, "Current mode: ", badge(mode, mode)),
        ...buttons,
      ),
      h("p", { class: "muted" }, text),
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
