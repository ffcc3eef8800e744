// Floodgate dashboard: shows times in the admin's zone, asks before destructive actions, and refreshes the page's
// content in place every few seconds (no framework; the server renders everything).
"use strict";

function localize(root) {
  for (const el of root.querySelectorAll("time[datetime]")) {
    el.textContent = new Date(el.getAttribute("datetime")).toLocaleString();
  }
  for (const el of root.querySelectorAll("[data-time]")) {
    const d = new Date(el.getAttribute("data-time"));
    el.textContent = d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  }
}

function wire(root) {
  for (const form of root.querySelectorAll("form[data-confirm]")) {
    form.addEventListener("submit", (event) => {
      if (!window.confirm(form.getAttribute("data-confirm"))) event.preventDefault();
    });
  }
  for (const offset of root.querySelectorAll("input[name=offset]")) {
    offset.value = String(new Date().getTimezoneOffset());
  }
  for (const input of root.querySelectorAll("input, textarea, select")) {
    input.addEventListener("input", () => { document.body.dataset.dirty = "1"; });
  }
  localize(root);
}

async function refresh() {
  const main = document.getElementById("main");
  const active = document.activeElement;
  // Never replace what the admin is typing into.
  if (document.hidden || document.body.dataset.dirty || (active && main.contains(active) && active.matches("input, textarea, select"))) return;
  try {
    const response = await fetch(window.location.href, { credentials: "same-origin", headers: { "X-Requested-With": "refresh" } });
    if (response.redirected || !response.ok) {
      if (response.redirected) window.location.reload();
      return;
    }
    const page = new DOMParser().parseFromString(await response.text(), "text/html");
    const next = page.getElementById("main");
    if (!next) return;
    main.innerHTML = next.innerHTML;
    wire(main);
    document.getElementById("updated").textContent = "updated " + new Date().toLocaleTimeString();
  } catch {
    document.getElementById("updated").textContent = "not reachable, retrying";
  }
}

document.addEventListener("DOMContentLoaded", () => {
  wire(document);
  // An action's outcome is shown once; the refreshes that follow load the page without it.
  const url = new URL(window.location.href);
  if (url.searchParams.has("done")) {
    url.searchParams.delete("done");
    window.history.replaceState(null, "", url.pathname + url.search);
  }
  const seconds = Number(document.body.dataset.refresh || 0);
  if (seconds > 0) window.setInterval(refresh, seconds * 1000);
});
