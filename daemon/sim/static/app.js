// The replica game page of `rugsd sim`: the real site's trading controls, driven by the
// simulator's Socket.IO feed. Each page session is one player: `?player=NAME` in the URL,
// else a name kept in localStorage (so a persistent browser profile stays the same player).
// No framework, no CDN: socket.io.min.js is served by the simulator itself.
(function () {
  "use strict";

  const COIN = "0xPractice";
  const q = new URLSearchParams(location.search);
  let player = q.get("player") || localStorage.getItem("rugsd.player");
  if (!player || !/^[A-Za-z0-9_.\-]{1,32}$/.test(player)) {
    player = "web-" + Math.random().toString(36).slice(2, 10);
  }
  localStorage.setItem("rugsd.player", player);

  const $ = (sel) => document.querySelector(sel);
  const byAct = (act) => document.querySelector('[data-act="' + act + '"]');
  const field = (name) => document.querySelector('[data-field="' + name + '"]');
  const input = $('input[type="number"]');

  const state = {
    player: player,
    playerId: null,
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
  };

  // ------------------------------------------------------------------ feed
  const socket = io(location.origin, {
    transports: ["websocket"],
    auth: { player: player },
    reconnectionDelay: 250,
    reconnectionDelayMax: 2000,
  });
  window.rugsReplica = { state: state, socket: socket };

  socket.on("connect", () => {
    state.connected = true;
    render();
  });
  socket.on("disconnect", () => {
    state.connected = false;
    render();
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
      if (state.phase !== "rugged") state.prices = [1.0];
    }
    scheduleRender();
  });

  socket.on("playerUpdate", (...args) => {
    const p = args[args.length - 1] || {};
    state.playerId = p.playerId || state.playerId;
    if (typeof p.cash === "number") state.balance = p.cash;
    if (typeof p.positionQty === "number") state.positionQty = p.positionQty;
    if (typeof p.avgCost === "number") state.avgCost = p.avgCost;
    state.sidebet = p.sidebet || null;
    scheduleRender();
  });

  // ------------------------------------------------------------------ controls
  const round9 = (v) => Math.round(v * 1e9) / 1e9;
  const betAmount = () => {
    const v = parseFloat(input.value);
    return Number.isFinite(v) && v > 0 ? round9(v) : 0;
  };
  const setBet = (v) => {
    input.value = String(round9(Math.max(0, v)));
  };

  function toast(text, ok) {
    const t = $('[class*="_toast_"]');
    t.textContent = text;
    t.dataset.ok = ok ? "1" : "0";
  }

  function order(event, payload) {
    socket.emit(event, payload, (ack) => {
      state.lastAck = ack;
      if (ack && ack.success) toast(event + " ok", true);
      else toast((ack && (ack.message || ack.reason)) || "order refused", false);
    });
  }

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
    const btn = ev.target.closest("button[data-act]");
    if (!btn || btn.disabled) return;
    const act = btn.dataset.act;
    if (adjust[act]) {
      adjust[act]();
    } else if (act.startsWith("pct-")) {
      state.sellPct = +act.slice(4);
      document.querySelectorAll('[data-act^="pct-"]').forEach((b) => {
        b.classList.toggle("active", b === btn);
      });
    } else if (act === "buy") {
      order("buyOrder", { amount: betAmount() });
    } else if (act === "sell") {
      order("sellOrder", { percentage: state.sellPct });
    } else if (act === "sidebet") {
      order("requestSidebet", { amount: betAmount(), coinAddress: COIN, xPayout: 5 });
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

  function render() {
    field("player").textContent = state.playerId || player;
    field("connection").textContent = state.connected ? "connected" : "offline";
    field("game").textContent = state.gameId || "–";
    field("phase").textContent =
      state.phase + (state.phase === "presale" || state.phase === "cooldown"
        ? " " + (state.cooldown / 1000).toFixed(1) + "s" : "");
    field("tick").textContent = String(state.tick);
    field("price").textContent = fmt(state.price, 4) + "x";
    field("balance").textContent = fmt(state.balance, 4) + " SOL";
    field("position").textContent = fmt(state.positionQty, 6);
    field("avg").textContent = fmt(state.avgCost, 4);
    field("sidebet").textContent = state.sidebet
      ? state.sidebet.betAmount + " SOL until tick " + state.sidebet.endTick : "none";
    document.querySelectorAll("button[data-act]").forEach((b) => {
      b.disabled = !state.connected;
    });
    drawChart();
  }

  const canvas = $("canvas");
  function drawChart() {
    const ctx = canvas.getContext("2d");
    const w = canvas.width;
    const h = canvas.height;
    ctx.fillStyle = "#10131a";
    ctx.fillRect(0, 0, w, h);
    const ps = state.prices.filter((p) => typeof p === "number");
    if (!ps.length) return;
    // log scale between min(0.5, low) and max(2, high): crashes and pumps both stay visible
    const lo = Math.log(Math.min(0.5, ...ps.map((p) => Math.max(p, 1e-3))));
    const hi = Math.log(Math.max(2, ...ps));
    const y = (p) => h - 8 - ((Math.log(Math.max(p, 1e-3)) - lo) / (hi - lo)) * (h - 16);
    ctx.strokeStyle = "#39424f";
    ctx.beginPath();
    ctx.moveTo(0, y(1));
    ctx.lineTo(w, y(1));
    ctx.stroke();
    const n = Math.max(ps.length, 50);
    ctx.strokeStyle = state.phase === "rugged" ? "#e5484d" : "#30a46c";
    ctx.lineWidth = 2;
    ctx.beginPath();
    ps.forEach((p, i) => {
      const x = (i / (n - 1)) * w;
      if (i === 0) ctx.moveTo(x, y(p));
      else ctx.lineTo(x, y(p));
    });
    ctx.stroke();
  }

  render();
})();
