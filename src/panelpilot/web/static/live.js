// panelpilot live view: every control cycle arrives over the WebSocket; update the tables.
"use strict";
(function () {
  const stateEl = document.getElementById("live-state");
  const timeEl = document.getElementById("live-time");
  const fmt = (v, digits) => (v === null || v === undefined ? "–" : Number(v).toFixed(digits));

  function update(cycle) {
    for (const row of document.querySelectorAll("tr[data-circuit]")) {
      const c = cycle.circuits[row.dataset.circuit];
      if (!c) continue;
      const limit = Number(row.dataset.limit);
      row.querySelector(".current").textContent = fmt(c.current_a, 1) + " A";
      const fill = row.querySelector(".fill");
      const share = c.current_a === null ? 0 : Math.max(0, c.current_a) / limit;
      fill.style.width = Math.min(100, 100 * share) + "%";
      fill.classList.toggle("high", share >= 0.9 && share <= 1);
      fill.classList.toggle("over", share > 1);
    }
    const readings = (cycle.readings || {}).chargers || {};
    for (const row of document.querySelectorAll("tr[data-charger]")) {
      const id = row.dataset.charger;
      const d = cycle.chargers[id];
      if (!d) continue;
      const r = readings[id] || {};
      row.querySelector(".draw").textContent = fmt(r.online ? r.current_a : 0, 1) + " A";
      row.querySelector(".limit").textContent = fmt(d.limit_a, 0) + " A";
      row.querySelector(".fallback").textContent = fmt(d.fallback_a, 1) + " A";
      row.querySelector(".status").textContent = d.status;
    }
    const list = document.getElementById("alerts");
    list.replaceChildren(...cycle.alerts.map((a) => {
      const li = document.createElement("li");
      li.className = "sev-" + a.severity;
      li.textContent = a.code + ": " + a.message;
      return li;
    }));
    timeEl.textContent = new Date(cycle.wall_s * 1000).toLocaleTimeString();
    document.body.dataset.cycles = String(Number(document.body.dataset.cycles || 0) + 1);
  }

  function connect() {
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    const ws = new WebSocket(scheme + "//" + location.host + "/api/stream");
    ws.onopen = () => { stateEl.textContent = "live"; };
    ws.onmessage = (event) => update(JSON.parse(event.data));
    ws.onclose = (event) => {
      // 4401: this session signed out (or its password changed): nothing to reconnect to.
      if (event.code === 4401) { stateEl.textContent = "signed out"; return; }
      stateEl.textContent = "reconnecting…";
      setTimeout(connect, 2000);
    };
  }
  connect();
})();
