// The replica game page of `rugsd sim`: the real rugs.fun trading page, driven by the
// simulator's Socket.IO feed. Each page session is one logged-in player: `?player=NAME`,
// else a name kept in localStorage (a persistent browser profile stays the same player);
// `?guest=1` is the logged-out page. No framework, no CDN: socket.io.min.js is served by
// the simulator itself. Elements are found through data-* hooks, never through the
// hashed class names (they change with every build, as on the real site).
(function () {
  "use strict";

  const COIN = "0xPractice";
  const TICK_S = 0.25;
  const SIDEBET_TICKS = 40;
  const SIDEBET_X = 5;
  const CANDLE_TICKS = 5;
  const q = new URLSearchParams(location.search);
  const guest = q.get("guest") === "1";
  let player = q.get("player") || localStorage.getItem("rugsd.player");
  if (!player || !/^[A-Za-z0-9_.\-]{1,32}$/.test(player)) {
    player = "web-" + Math.random().toString(36).slice(2, 10);
  }
  if (!guest) localStorage.setItem("rugsd.player", player);

  const $ = (sel) => document.querySelector(sel);
  const ui = (name) => document.querySelector('[data-ui="' + name + '"]');
  const field = (name) => document.querySelector('[data-field="' + name + '"]');
  const act = (name) => document.querySelector('[data-act="' + name + '"]');
  // write only what changed: an unchanged page costs the browser no layout
  const setText = (el, text) => {
    if (el.textContent !== text) el.textContent = text;
  };
  const setData = (el, key, value) => {
    if (el.dataset[key] !== value) el.dataset[key] = value;
  };
  const input = $('input[type="number"]');
  const slider = $('input[type="range"]');

  const state = {
    player: player,
    guest: guest,
    playerId: null,
    username: null,
    connected: false,
    gameId: null,
    phase: "unknown",
    tick: 0,
    price: 1.0,
    cooldown: 0,
    prices: [1.0],
    balance: null,
    positionQty: 0,
    avgCost: 0,
    sidebet: null,
    sellPct: 100,
    lastAck: null,
    online: 0,
    counts: {},
    peaks: [],
    leaderboard: [],
  };

  // ------------------------------------------------------------------ feed
  const socket = io(location.origin, {
    transports: ["websocket"],
    auth: guest ? {} : { player: player },
    reconnectionDelay: 250,
    reconnectionDelayMax: 2000,
  });
  window.rugsReplica = { state: state, socket: socket };

  socket.on("connect", () => {
    state.connected = true;
    scheduleRender();
  });
  socket.on("disconnect", () => {
    state.connected = false;
    scheduleRender();
  });

  function phaseOf(s) {
    if (s.rugged) return "rugged";
    if (s.active) return "active";
    if (typeof s.cooldownTimer === "number" && s.cooldownTimer > 10000) return "cooldown";
    return s.allowPreRoundBuys ? "presale" : "cooldown";
  }

  socket.on("gameStateUpdate", (...args) => {
    const s = args[args.length - 1] || {};
    if (s.gameId && s.gameId !== state.gameId) {
      state.gameId = s.gameId;
      state.prices = [1.0];
    }
    state.phase = phaseOf(s);
    if (typeof s.cooldownTimer === "number") state.cooldown = s.cooldownTimer;
    if (typeof s.connectedPlayers === "number") state.online = s.connectedPlayers;
    for (const k of ["count2x", "count10x", "count50x"]) {
      if (typeof s[k] === "number") state.counts[k] = s[k];
    }
    if (Array.isArray(s.leaderboard)) state.leaderboard = s.leaderboard;
    if (Array.isArray(s.gameHistory)) {
      state.peaks = s.gameHistory.map((g) => g && g.peakMultiplier).filter((p) => typeof p === "number");
    }
    if (Array.isArray(s.prices) && s.prices.length) state.prices = s.prices.slice();
    if (s.partialPrices && s.partialPrices.values) {
      for (const [k, v] of Object.entries(s.partialPrices.values)) state.prices[+k] = v;
    }
    if (state.phase === "active" || state.phase === "rugged") {
      if (typeof s.tickCount === "number") state.tick = s.tickCount;
      if (typeof s.price === "number") {
        state.price = s.price;
        state.prices[state.tick] = s.price;
      }
    } else {
      state.tick = 0;
      state.price = 1.0;
      state.prices = [1.0];
    }
    scheduleRender();
  });

  // the real shape: {id, cash, positionQty, avgCost, totalInvested, cumulativePnL,
  // sideBet: null | {startedAtTick, end, betAmount, xPayout, ...}, ...}
  socket.on("playerUpdate", (...args) => {
    if (guest) return; // a logged-out page has no account
    const p = args[args.length - 1] || {};
    state.playerId = p.id || state.playerId;
    if (typeof p.cash === "number") state.balance = p.cash;
    if (typeof p.positionQty === "number") state.positionQty = p.positionQty;
    if (typeof p.avgCost === "number") state.avgCost = p.avgCost;
    if ("sideBet" in p) state.sidebet = p.sideBet || null;
    scheduleRender();
  });
  socket.on("gameStatePlayerUpdate", (...args) => {
    const p = args[args.length - 1] || {};
    const entry = p.leaderboardEntry;
    if (!guest && entry && entry.username) state.username = entry.username;
  });
  socket.on("currentSidebetResult", (...args) => {
    const r = args[args.length - 1] || {};
    if (!guest && r.type === "payout") toast("Sidebet won " + fmtSol(r.payout) + " SOL", true);
  });

  // ------------------------------------------------------------------ controls
  const round9 = (v) => Math.round(v * 1e9) / 1e9;
  const betAmount = () => {
    const v = parseFloat(input.value);
    return Number.isFinite(v) && v > 0 ? round9(v) : 0;
  };
  // SOL as the page shows it: at least 3 decimals, up to 9 ("0.002", "0.030", "0.0125")
  function fmtSol(v) {
    if (typeof v !== "number" || !Number.isFinite(v)) return "0.000";
    let s = v.toFixed(9).replace(/0+$/, "");
    const dot = s.indexOf(".");
    while (s.length - dot - 1 < 3) s += "0";
    return s;
  }
  // the banner's prize as the real one writes it ("Win 0.01 SOL")
  function fmtWin(v) {
    const s = fmtSol(v).replace(/0+$/, "");
    return s.endsWith(".") ? s + "0" : s;
  }
  // the amount labels follow the input at once (BUY "+0.002 SOL", the BET badge, the win)
  function renderAmounts() {
    const amount = betAmount();
    setText(field("buy-amount"), amount > 0 ? "+" + fmtSol(amount) + " SOL" : "");
    setText(field("sidebet-amount"), fmtSol(amount));
    setText(field("sidebet-win"), fmtWin(round9(amount * SIDEBET_X)));
    const held = state.positionQty > 0 ? state.positionQty * state.price * state.sellPct / 100 : 0;
    setText(field("sell-amount"), held > 0 ? "+" + held.toFixed(3) + " SOL" : "");
  }
  const setBet = (v) => {
    const amount = round9(Math.max(0, v));
    input.value = amount > 0 ? String(amount) : "";
    renderAmounts();
  };
  input.addEventListener("input", renderAmounts);

  const toasts = ui("toasts");
  function toast(text, ok) {
    const t = document.createElement("div");
    t.textContent = text;
    t.dataset.ok = ok ? "1" : "0";
    toasts.appendChild(t);
    while (toasts.children.length > 3) toasts.removeChild(toasts.firstChild);
    setTimeout(() => t.remove(), 4000);
  }

  function order(event, payload) {
    if (guest) {
      toast("Authentication required", false);
      return;
    }
    socket.emit(event, payload, (ack) => {
      state.lastAck = ack;
      if (!ack || !ack.success) toast((ack && (ack.message || ack.reason)) || "order refused", false);
    });
  }

  function selectPct(p) {
    state.sellPct = p;
    slider.value = String(p);
    renderPct();
  }
  function renderPct() {
    setText(field("sell-pct"), String(state.sellPct));
    document.querySelectorAll('[data-act^="pct-"]').forEach((b) => {
      setData(b, "selected", +b.dataset.act.slice(4) === state.sellPct ? "1" : "0");
    });
    renderAmounts();
  }
  slider.addEventListener("input", () => {
    state.sellPct = Math.max(1, Math.min(100, +slider.value || 100));
    renderPct();
  });

  const adjust = {
    clear: () => setBet(0),
    "inc-0.001": () => setBet(betAmount() + 0.001),
    "inc-0.01": () => setBet(betAmount() + 0.01),
    "inc-0.1": () => setBet(betAmount() + 0.1),
    "inc-1": () => setBet(betAmount() + 1),
    half: () => setBet(betAmount() / 2),
    double: () => setBet(betAmount() * 2),
    max: () => setBet(state.balance || 0),
  };

  document.addEventListener("click", (ev) => {
    const el = ev.target.closest("[data-act]");
    if (!el || el.disabled || el.getAttribute("aria-disabled") === "true") return;
    const name = el.dataset.act;
    if (adjust[name]) {
      adjust[name]();
    } else if (name.startsWith("pct-")) {
      selectPct(+name.slice(4));
    } else if (name === "bot" || name === "quick") {
      el.dataset.on = el.dataset.on === "1" ? "0" : "1";
    } else if (name === "connect") {
      toast("Connect a wallet on the real site", false);
    } else if (name === "buy") {
      order("buyOrder", { amount: betAmount() });
    } else if (name === "sell") {
      order("sellOrder", { percentage: state.sellPct });
    } else if (name === "sidebet") {
      order("requestSidebet", { amount: betAmount(), coinAddress: COIN, xPayout: SIDEBET_X });
    }
  });

  // ------------------------------------------------------------------ rendering
  let pending = false;
  function scheduleRender() {
    if (pending) return;
    pending = true;
    requestAnimationFrame(() => {
      pending = false;
      render();
    });
  }

  function fmt(v, d) {
    return typeof v === "number" && Number.isFinite(v) ? v.toFixed(d) : "–";
  }
  function show(el, yes) {
    if (el.hidden === yes) el.hidden = !yes;
  }

  const drawn = { connected: null, chart: null };
  function render() {
    const loggedIn = !guest && state.balance !== null;
    setText(field("username"), loggedIn ? (state.username || player) : "");
    show(field("username"), loggedIn);
    show(act("connect"), !loggedIn);
    show(ui("balance-chip"), loggedIn);
    setText(field("balance"), fmt(state.balance, 3));
    setText(field("online"), String(state.online));
    for (const x of ["2", "10", "50"]) setText(field("count" + x), String(state.counts["count" + x + "x"] || 0));
    document.querySelectorAll("[data-tile]").forEach((t) => {
      const p = state.peaks[+t.dataset.tile];
      setText(t, typeof p === "number" ? p.toFixed(2) + "x" : "");
      setData(t, "tier", typeof p !== "number" ? "" : p >= 10 ? "3" : p >= 2 ? "2" : "1");
    });
    const waiting = state.phase === "presale" || state.phase === "cooldown";
    show(ui("presale"), state.phase === "presale");
    show(ui("next-round"), waiting);
    setText(field("countdown"), (state.cooldown / 1000).toFixed(2) + "s");
    const mult = field("price");
    setText(mult, fmt(state.price, 4) + "x");
    show(mult, !waiting);
    setData(mult, "rugged", state.phase === "rugged" ? "1" : "0");
    renderSidebet(loggedIn);
    renderLeaderboard();
    renderAmounts();
    setData(act("sell"), "dim", state.positionQty > 0 ? "0" : "1");
    // the footer: the replica's own state (not on the real page)
    setText(field("player"), guest ? "guest" : state.playerId || player);
    setText(field("connection"), state.connected ? "connected" : "offline");
    setText(field("game"), state.gameId || "–");
    setText(field("phase"), state.phase);
    setText(field("tick"), String(state.tick));
    setText(field("position"), fmt(state.positionQty, 6));
    setText(field("avg"), fmt(state.avgCost, 4));
    setText(field("sidebet"), state.sidebet
      ? state.sidebet.betAmount + " SOL, ticks " + state.sidebet.startedAtTick + "–" + state.sidebet.end
      : "none");
    if (drawn.connected !== state.connected) {
      drawn.connected = state.connected;
      document.querySelectorAll("[data-act]").forEach((b) => {
        const off = !state.connected;
        if (b.tagName === "BUTTON") b.disabled = off;
        else b.setAttribute("aria-disabled", String(off));
      });
    }
    const chartKey = [state.gameId, state.phase, state.prices.length, state.price].join("|");
    if (drawn.chart !== chartKey) {
      drawn.chart = chartKey;
      drawChart();
    }
  }

  function renderSidebet(loggedIn) {
    show(ui("sidebet"), loggedIn);
    const bet = state.sidebet;
    show(ui("sidebet-offer"), !bet);
    show(ui("sidebet-open"), !!bet);
    setText(field("window"), Math.round(SIDEBET_TICKS * TICK_S) + "s");
    if (bet) {
      const started = state.phase === "active" || state.phase === "rugged";
      const left = started ? Math.max(0, bet.end - state.tick) : SIDEBET_TICKS;
      setText(field("sidebet-left"), Math.ceil(left * TICK_S) + "s");
      setText(field("sidebet-stake"), fmtSol(bet.betAmount));
      setText(field("sidebet-prize"), fmtWin(round9(bet.betAmount * (bet.xPayout || SIDEBET_X))));
    }
  }

  function renderLeaderboard() {
    const box = ui("leaderboard");
    const rows = state.leaderboard.slice(0, 10).map((e) => {
      const pnl = typeof e.pnl === "number" ? e.pnl : 0;
      const pct = typeof e.pnlPercent === "number" ? e.pnlPercent : 0;
      const sign = (v) => (v >= 0 ? "+" : "");
      return [String(e.username || e.id || "?").slice(0, 12), sign(pnl) + pnl.toFixed(3),
        sign(pct) + pct.toFixed(2) + "%", pnl >= 0];
    });
    const key = JSON.stringify(rows);
    if (box.dataset.key === key) return;
    box.dataset.key = key;
    box.replaceChildren(...rows.map(([name, pnl, pct, up]) => {
      const row = document.createElement("div");
      row.dataset.up = up ? "1" : "0";
      for (const text of [name, pnl, pct]) {
        const span = document.createElement("span");
        span.textContent = text;
        row.appendChild(span);
      }
      return row;
    }));
  }

  // 5-tick candles, as the real chart draws them
  const canvas = $("canvas");
  function candles(ps) {
    const out = [];
    for (let i = 0; i < ps.length; i += CANDLE_TICKS) {
      const group = ps.slice(i, i + CANDLE_TICKS).filter((p) => typeof p === "number");
      if (!group.length) continue;
      out.push({ o: group[0], c: group[group.length - 1], h: Math.max(...group), l: Math.min(...group) });
    }
    return out;
  }
  function drawChart() {
    const ctx = canvas.getContext("2d");
    const w = canvas.width;
    const h = canvas.height;
    ctx.clearRect(0, 0, w, h);
    const ps = state.prices.filter((p) => typeof p === "number");
    const cs = candles(ps);
    const lo = Math.min(0.6, ...ps.map((p) => p * 0.9));
    const hi = Math.max(2, ...ps.map((p) => p * 1.1));
    const left = 46;
    const y = (p) => h - 12 - ((p - lo) / (hi - lo)) * (h - 24);
    ctx.font = "12px system-ui, sans-serif";
    const step = niceStep((hi - lo) / 6);
    for (let v = Math.ceil(lo / step) * step; v <= hi; v += step) {
      ctx.strokeStyle = "#1f2430";
      ctx.beginPath();
      ctx.moveTo(left, y(v));
      ctx.lineTo(w, y(v));
      ctx.stroke();
      ctx.fillStyle = "#c7ccd6";
      ctx.fillText(+v.toFixed(2) + "x", 6, y(v) + 4);
    }
    const slots = Math.max(cs.length + 4, 40);
    const cw = (w - left - 240) / slots;
    cs.forEach((k, i) => {
      const x = left + i * cw + cw / 2;
      const up = k.c >= k.o;
      ctx.strokeStyle = ctx.fillStyle = up ? "#22c55e" : "#ef4444";
      ctx.beginPath();
      ctx.moveTo(x, y(k.h));
      ctx.lineTo(x, y(k.l));
      ctx.stroke();
      const top = y(Math.max(k.o, k.c));
      ctx.fillRect(x - cw * 0.35, top, cw * 0.7, Math.max(2, y(Math.min(k.o, k.c)) - top));
    });
    ctx.setLineDash([4, 4]);
    ctx.strokeStyle = "#8a94a6";
    ctx.beginPath();
    ctx.moveTo(left, y(state.price));
    ctx.lineTo(w, y(state.price));
    ctx.stroke();
    ctx.setLineDash([]);
  }
  function niceStep(raw) {
    const p = Math.pow(10, Math.floor(Math.log10(raw)));
    for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= raw) return m * p;
    return 10 * p;
  }

  renderPct();
  render();
})();
