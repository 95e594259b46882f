// rugsd human-demonstration capture, installed before any page script runs
// (page.add_init_script; CONFIG is replaced by Python). It taps the page's own websocket
// (wrapping window.WebSocket) to follow the game and the player's account from the
// Socket.IO frames the site receives, and a capture-phase click listener — which runs
// before the site's own handlers — reports each control press with the state at that
// moment to the exposed binding. Works the same on the real site and on the replica.
(() => {
  if (window.__rugsdTap) return;
  const cfg = /*CONFIG*/ {};
  const st = {
    gameId: null, phase: "unknown", tick: 0, price: 1.0, balance: null, positionQty: 0,
    playerId: null, ticksSeen: 0, lastTick: null, serverTs: null,
  };
  function phaseOf(s) {
    if (s.rugged) return "rugged";
    if (s.active) return "active";
    if (typeof s.cooldownTimer === "number" && s.cooldownTimer > 10000) return "cooldown";
    return s.allowPreRoundBuys ? "presale" : "cooldown";
  }
  function onFrame(data) {
    if (typeof data !== "string" || data.length < 3 || data[0] !== "4" || data[1] !== "2") return;
    let i = 2;
    if (data[i] === "/") i = data.indexOf(",", i) + 1;
    while (i < data.length && data[i] >= "0" && data[i] <= "9") i++;
    let arr;
    try { arr = JSON.parse(data.slice(i)); } catch (e) { return; }
    if (!Array.isArray(arr) || typeof arr[0] !== "string") return;
    const p = arr[arr.length - 1];
    if (!p || typeof p !== "object") return;
    if (arr[0] === "gameStateUpdate") {
      if (p.gameId) st.gameId = p.gameId;
      st.phase = phaseOf(p);
      if (typeof p.timestamp === "number") st.serverTs = p.timestamp;
      if (st.phase === "active" || st.phase === "rugged") {
        if (typeof p.tickCount === "number") st.tick = p.tickCount;
        if (typeof p.price === "number") st.price = p.price;
        const key = st.gameId + ":" + st.tick;
        if (st.phase === "active" && key !== st.lastTick) { st.lastTick = key; st.ticksSeen += 1; }
      } else { st.tick = 0; st.price = 1.0; }
    } else if (arr[0] === "playerUpdate") {
      if (p.playerId || p.id) st.playerId = p.playerId || p.id;
      if (typeof p.cash === "number") st.balance = p.cash;
      if (typeof p.positionQty === "number") st.positionQty = p.positionQty;
    }
  }
  const Native = window.WebSocket;
  class TapWebSocket extends Native {
    constructor(...args) {
      super(...args);
      this.addEventListener("message", (e) => onFrame(e.data));
    }
  }
  window.WebSocket = TapWebSocket;

  // the control pressed: the clicked element or an ancestor (a label inside BUY) whose
  // class contains a row's class pattern and whose text matches its text pattern
  const patterns = new Map();
  function matches(src, text) {
    if (!patterns.has(src)) patterns.set(src, new RegExp(src, "i"));
    return patterns.get(src).test(text);
  }
  function classify(target) {
    let el = target;
    for (let depth = 0; el && depth < 6; depth += 1, el = el.parentElement) {
      if (el.nodeType !== 1) continue;
      const cls = el.getAttribute("class") || "";
      const text = (el.textContent || "").replace(/\s+/g, " ").trim();
      for (const row of cfg.table || []) {
        if (!row.cls && !row.text) continue;
        if (row.cls && !cls.includes(row.cls)) continue;
        if (row.text && !matches(row.text, text)) continue;
        return row;
      }
    }
    return null;
  }
  window.addEventListener("click", (ev) => {
    const row = classify(ev.target);
    if (!row) return;
    const input = cfg.betInput ? document.querySelector(cfg.betInput) : null;
    const snap = {
      button_id: row.id, category: row.category,
      wall_ms: performance.timeOrigin + ev.timeStamp, trusted: ev.isTrusted,
      game_id: st.gameId, phase: st.phase, tick: st.tick, price: st.price,
      balance: st.balance, position_qty: st.positionQty, bet_text: input ? input.value : null,
      ticks_seen: st.ticksSeen, server_ts: st.serverTs, player_id: st.playerId,
    };
    const sink = window[cfg.binding || "__rugsdButton"];
    if (typeof sink === "function") sink(snap);
  }, true);
  Object.defineProperty(window, "__rugsdTap", { value: st, enumerable: false });
})();
