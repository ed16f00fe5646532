// Users and API tokens (admins only): add users, change roles, disable, delete; create tokens
// (the secret is shown once) and revoke them.

import { api, type Role, type Token, type User } from "../api";
import { badge, field, fmtTime, h, relTime, replace, table } from "../dom";
import { act, ask, can, currentSession, errorBox, pageHeader } from "../ui";

const ROLES: Role[] = ["viewer", "analyst", "admin", "ingest"];

export function renderUsers(root: HTMLElement): () => void {
  if (!can("admin")) {
    replace(root, pageHeader("Users and tokens"), h("p", { class: "error", role: "alert" }, "Only admins manage users and tokens."));
    return () => {};
  }
  const usersBox = h("div");
  const tokensBox = h("div");
  const secretBox = h("div", { "aria-live": "polite" });
  let users: User[] = [];
  let tokens: Token[] = [];

  const drawUsers = () => {
    replace(
      usersBox,
      table(
        "Users",
        [
          { label: "Name", cell: (u) => [u.name, u.name === currentSession()?.user ? h("small", { class: "muted" }, " (you)") : null] },
          {
            label: "Role",
            cell: (u) => {
              const sel = h("select", { "aria-label": `Role of ${u.name}` }, ROLES.map((r) => h("option", { value: r, selected: r === u.role }, r)));
              sel.addEventListener("change", () => {
                void act(null, async () => {
                  try {
                    Object.assign(u, await api.updateUser(u.name, { role: sel.value as Role }));
                  } catch (e) {
                    sel.value = u.role;
                    throw e;
                  }
                }, `${u.name}: ${sel.value}`);
              });
              return sel;
            },
          },
          { label: "State", cell: (u) => badge(u.disabled ? "disabled" : "enabled", u.disabled ? "bad" : "ok") },
          { label: "Created", cell: (u) => fmtTime(u.created) },
          {
            label: "",
            className: "actions",
            cell: (u) => {
              const toggle = h("button", { type: "button", class: "secondary", "aria-label": `${u.disabled ? "Enable" : "Disable"} ${u.name}` }, u.disabled ? "Enable" : "Disable");
              toggle.addEventListener("click", () => {
                void act(toggle, async () => {
                  Object.assign(u, await api.updateUser(u.name, { disabled: !u.disabled }));
                  drawUsers();
                }, `${u.name}: ${u.disabled ? "enabled" : "disabled"}`);
              });
              const del = h("button", { type: "button", class: "danger", "aria-label": `Delete ${u.name}` }, "Delete");
              del.addEventListener("click", async () => {
                const v = await ask(`Delete the user ${u.name}?`, ["Their sessions end at once; their tokens stop working."], "Delete", [], true);
                if (!v) return;
                void act(del, async () => {
                  await api.deleteUser(u.name);
                  await load();
                }, `${u.name}: deleted`);
              });
              return h("div", { class: "row-actions" }, toggle, del);
            },
          },
        ],
        users,
      ),
    );
  };

  const drawTokens = () => {
    replace(
      tokensBox,
      table(
        "API tokens",
        [
          { label: "Name", cell: (t) => t.name },
          { label: "User", cell: (t) => t.user },
          { label: "Id", cell: (t) => h("code", null, t.id) },
          { label: "Created", cell: (t) => fmtTime(t.created) },
          { label: "Last used", cell: (t) => relTime(t.last_used) },
          { label: "State", cell: (t) => badge(t.revoked ? "revoked" : "valid", t.revoked ? "bad" : "ok") },
          {
            label: "",
            className: "actions",
            cell: (t) => {
              if (t.revoked) return null;
              const b = h("button", { type: "button", class: "danger", "aria-label": `Revoke token ${t.name}` }, "Revoke");
              b.addEventListener("click", () => {
                void act(b, async () => {
                  await api.revokeToken(t.id);
                  await load();
                }, `token ${t.name}: revoked`);
              });
              return b;
            },
          },
        ],
        tokens,
        "No tokens.",
      ),
    );
  };

  const load = async () => {
    try {
      const [u, t] = await Promise.all([api.users(), api.tokens()]);
      users = u.items;
      tokens = t.items;
      drawUsers();
      drawTokens();
    } catch (e) {
      replace(usersBox, errorBox(e));
    }
  };

  const uName = h("input", { type: "text", name: "name", required: true, autocomplete: "off" });
  const uRole = h("select", { name: "role" }, ROLES.map((r) => h("option", { value: r, selected: r === "analyst" }, r)));
  const uPass = h("input", { type: "password", name: "password", required: true, minlength: 10, autocomplete: "new-password" });
  const addUser = h(
    "form",
    {
      class: "filters",
      "aria-label": "Add a user",
      onsubmit: (e: Event) => {
        e.preventDefault();
        const btn = (e.target as HTMLFormElement).querySelector("button") as HTMLButtonElement;
        void act(btn, async () => {
          await api.addUser(uName.value.trim(), uRole.value as Role, uPass.value);
          uName.value = "";
          uPass.value = "";
          await load();
        }, "User added");
      },
    },
    field("User name", uName),
    field("Role", uRole),
    field("Password", uPass, "at least 10 characters"),
    h("button", { type: "submit", class: "primary" }, "Add user"),
  );

  const tUser = h("input", { type: "text", name: "user", required: true, autocomplete: "off" });
  const tName = h("input", { type: "text", name: "token-name", value: "shipper" });
  const addToken = h(
    "form",
    {
      class: "filters",
      "aria-label": "Create a token",
      onsubmit: (e: Event) => {
        e.preventDefault();
        const btn = (e.target as HTMLFormElement).querySelector("button") as HTMLButtonElement;
        void act(btn, async () => {
          const t = await api.createToken(tUser.value.trim(), tName.value.trim() || "token");
          replace(
            secretBox,
            h(
              "div",
              { class: "card secret", role: "status" },
              h("p", null, `Token ${t.name} for ${t.user}. Copy it now: it is not shown again.`),
              h("code", { class: "token-secret" }, t.token ?? ""),
            ),
          );
          await load();
        }, "Token created");
      },
    },
    field("For user", tUser),
    field("Token name", tName),
    h("button", { type: "submit", class: "primary" }, "Create token"),
  );

  replace(
    root,
    pageHeader("Users and tokens"),
    h("section", { class: "card", "aria-labelledby": "u-h" }, h("h2", { id: "u-h" }, "Users"), usersBox, addUser),
    h("section", { class: "card", "aria-labelledby": "t-h" }, h("h2", { id: "t-h" }, "API tokens"), secretBox, tokensBox, addToken),
  );
  void load();
  return () => {};
}
