// panelpilot live pages: every control cycle arrives over the WebSocket (/api/stream).
// * the Live tables are updated from the cycle itself;
// * every element with an id and `data-live` (status cards, reasons) is redrawn from the
//   page as the server renders it now (body[data-src]), at most once per REFRESH_MS, so a card
//   never says "Disabled" a cycle after Enable.
"use strict";
(function () {
  const REFRESH_MS = 1500;
  const NBSP = "\u00a0";
  const stateEl = document.getElementById("live-state");
  const timeEl = document.getElementById("live-time");
  const fmt = (v, digits) => (v === null || v === undefined ? "–" : Number(v).toFixed(digits));
  const amps = (v, digits) => fmt(v, digits) + NBSP + "A";
  const table = document.getElementById("circuits");
  const voltage = table ? Number(table.dataset.voltage) : 240;
  const kw = (a) => (a === null || a === undefined ? "–" : (a * voltage / 1000).toFixed(1)) + NBSP + "kW";

  function circuitCurrent(row, cycle, readings) {
    if (row.dataset.computed === undefined) {
      const c = cycle.circuits[row.dataset.circuit];
      return c ? c.current_a : null;
    }
    let sum = 0;
    for (const id of row.dataset.computed.split(" ").filter(Boolean)) {
      const r = readings[id];
      if (r && r.online) sum += r.current_a;
    }
    return sum;
  }

  function updateTables(cycle) {
    const readings = (cycle.readings || {}).chargers || {};
    for (const row of document.querySelectorAll("tr[data-circuit]")) {
      const current = circuitCurrent(row, cycle, readings);
      const limit = Number(row.dataset.limit);
      row.querySelector(".amps").textContent = amps(current, 1);
      row.querySelector(".kw").textContent = kw(current);
      const fill = row.querySelector(".fill");
      const share = current === null ? 0 : Math.max(0, current) / limit;
      fill.style.width = Math.min(100, 100 * share) + "%";
      fill.classList.toggle("high", share >= 0.9 && share <= 1);
      fill.classList.toggle("over", share > 1);
    }
    for (const row of document.querySelectorAll("tr[data-charger]")) {
      const id = row.dataset.charger;
      const d = cycle.chargers[id];
      if (!d) continue;
      const r = readings[id] || {};
      const draw = r.online ? r.current_a : 0;
      row.querySelector(".draw").textContent = amps(draw, 1);
      row.querySelector(".kw").textContent = kw(draw);
      row.querySelector(".limit").textContent = amps(d.limit_a, 0);
      row.querySelector(".fallback").textContent = amps(d.fallback_a, 1);
      row.querySelector(".status").textContent = d.status;
    }
    const list = document.getElementById("alerts");
    if (list) {
      list.replaceChildren(...cycle.alerts.map((a) => {
        const li = document.createElement("li");
        li.className = "sev-" + a.severity;
        li.textContent = a.code + ": " + a.message;
        return li;
      }));
    }
  }

  let fetching = false;
  let lastFetch = 0;
  async function refreshCards() {
    const src = document.body.dataset.src;
    const live = document.querySelectorAll("[data-live][id]");
    if (!src || !live.length || fetching || Date.now() - lastFetch < REFRESH_MS) return;
    fetching = true;
    lastFetch = Date.now();
    try {
      const response = await fetch(src, { credentials: "same-origin", headers: { "X-Live": "1" } });
      if (!response.ok || response.redirected) return;
      const fresh = new DOMParser().parseFromString(await response.text(), "text/html");
      for (const el of document.querySelectorAll("[data-live][id]")) {
        const next = fresh.getElementById(el.id);
        if (next && next.innerHTML !== el.innerHTML && !el.contains(document.activeElement)) {
          el.replaceWith(document.importNode(next, true));
        }
      }
      document.body.dataset.refreshes = String(Number(document.body.dataset.refreshes || 0) + 1);
    } catch (e) {
      // The next cycle tries again.
    } finally {
      fetching = false;
    }
  }

  function update(cycle) {
    updateTables(cycle);
    refreshCards();
    if (timeEl) timeEl.textContent = new Date(cycle.wall_s * 1000).toLocaleTimeString();
    document.body.dataset.cycles = String(Number(document.body.dataset.cycles || 0) + 1);
  }

  function say(text) { if (stateEl) stateEl.textContent = text; }

  function connect() {
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    const ws = new WebSocket(scheme + "//" + location.host + "/api/stream");
    ws.onopen = () => say("live");
    ws.onmessage = (event) => update(JSON.parse(event.data));
    ws.onclose = (event) => {
      // 4401: this session signed out (or its password changed): nothing to reconnect to.
      if (event.code === 4401) { say("signed out"); return; }
      say("reconnecting…");
      setTimeout(connect, 2000);
    };
  }
  connect();
})();
