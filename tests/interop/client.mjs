// Interop probe: the official socket.io-client connects to `rugsd sim`, records the
// gameStateUpdate events it receives (keys and phase fields), places one presale buy with
// an ack, and prints one JSON object on stdout. It exits by itself once it has bought, seen
// that game rug and the next game begin (15000 event) and seen a presale transition
// (cooldownTimer 10000), or at the time limit.
//
// usage: node client.mjs <url> [timeoutSeconds]
import { io } from "socket.io-client";

const url = process.argv[2];
const limitS = Number(process.argv[3] ?? 20);
const out = { connected: false, events: [], trades: [], buyAck: null, errors: [] };
let sawRug = false;
let sawNext = false;
let sawTransition = false;
let done = false;
let buySent = false;

const socket = io(url, {
  transports: ["websocket"],
  auth: { player: "jsclient" },
  reconnection: false,
  timeout: 5000,
});

function finish(code) {
  if (done) return;
  done = true;
  clearTimeout(timer);
  socket.close();
  // exit only once the (possibly large) report is flushed to the pipe
  process.stdout.write(JSON.stringify(out) + "\n", () => process.exit(code));
}

const timer = setTimeout(() => {
  out.errors.push(`time limit ${limitS}s reached`);
  finish(1);
}, limitS * 1000);

socket.on("connect", () => {
  out.connected = true;
});
socket.on("connect_error", (err) => {
  out.errors.push(`connect_error: ${err.message}`);
  finish(1);
});

socket.on("gameStateUpdate", (...args) => {
  const d = args[args.length - 1];
  out.events.push({
    nargs: args.length,
    keys: Object.keys(d),
    gameId: d.gameId,
    cooldownTimer: d.cooldownTimer,
    active: d.active ?? null,
    rugged: d.rugged ?? null,
    tickCount: d.tickCount ?? null,
    allowPreRoundBuys: d.allowPreRoundBuys,
    historyIds: Array.isArray(d.gameHistory) ? d.gameHistory.map((g) => g.id) : null,
  });
  if (d.allowPreRoundBuys === true && !buySent) {
    buySent = true;
    socket
      .timeout(5000)
      .emitWithAck("buyOrder", { amount: 0.01 })
      .then((ack) => { out.buyAck = ack; })
      .catch((err) => { out.errors.push(`buy ack: ${err.message}`); });
  }
  if (d.rugged === true && buySent) sawRug = true;
  if (sawRug && d.cooldownTimer === 15000 && Array.isArray(d.gameHistory)) sawNext = true;
  if (d.active === false && d.cooldownTimer === 10000) sawTransition = true;
  if (out.buyAck && sawNext && sawTransition) finish(0);
});

socket.on("standard/newTrade", (...args) => {
  out.trades.push({ nargs: args.length, first: args[0], keys: Object.keys(args[args.length - 1]) });
});
