// rugsd executor helper, installed in every page of the executor's browser context
// (page.add_init_script). `inspect` is the one in-page check of a control: attached,
// enabled, visible, and its text matching the control's pattern (for BUY and SIDEBET
// also the amount its label shows). `fire` checks every control of an order before
// touching any, so a missing or mismatched control never leaves a half-entered order;
// between steps it yields a microtask (a framework such as React re-renders there) and
// re-checks the next control; the action control is clicked only while its text says
// what the order means ("BUY+0.012 SOL" for a 0.012 SOL buy). A capture listener counts
// clicks and keeps their in-page wall-clock time (performance.timeOrigin +
// event.timeStamp) for the tick->click benchmark.
(() => {
  if (window.__rugsdExec) return;
  const setter = Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, "value").set;
  const log = [];
  const patterns = new Map();
  const AMOUNT_WAIT_MS = 100; // a re-render showing the typed amount arrives well within this

  function pattern(src) {
    let re = patterns.get(src);
    if (!re) {
      re = new RegExp(src, "i");
      patterns.set(src, re);
    }
    return re;
  }
  function textOf(el) {
    return (el.textContent || "").replace(/\s+/g, " ").trim();
  }
  // `sized`: also require a non-empty box (a layout read: at resolution, not per click)
  function isVisible(el, sized) {
    if (sized) {
      const r = el.getBoundingClientRect();
      if (r.width <= 0 || r.height <= 0) return false;
    }
    if (typeof el.checkVisibility === "function") {
      return el.checkVisibility({ checkOpacity: true, checkVisibilityCSS: true });
    }
    const s = getComputedStyle(el);
    return s.visibility !== "hidden" && s.display !== "none" && s.opacity !== "0";
  }
  function isDisabled(el) {
    return el.disabled === true || el.getAttribute("aria-disabled") === "true";
  }
  // the amount (SOL) a label shows, or null; `close` when it equals `want` to the label's
  // own precision ("+0.013 SOL" shows 0.0125 rounded to 3 places)
  function shownAmount(text, shown, want) {
    const m = pattern(shown).exec(text);
    if (!m) return { value: null, close: false };
    const value = parseFloat(m[1]);
    const places = (m[1].split(".")[1] || "").length;
    const tol = 0.5 * Math.pow(10, -places) + 1e-12;
    return { value: value, close: Math.abs(value - want) <= tol };
  }
  // {visible, text, problem}: problem null | stale | not_input | disabled | hidden |
  // mismatch | amount
  // `how`: "resolve" (the full test, box size included), "fire" (before a click: styles
  // only, no layout read) or "recheck" (passed "fire" moments ago in this same call: text
  // and state only, so our own input never forces a reflow)
  function inspect(el, check, how) {
    if (!el || !el.isConnected) return { visible: false, text: "", problem: "stale" };
    const text = check.input ? String(el.value) : textOf(el);
    const visible = how === "recheck" ? true : isVisible(el, how !== "fire");
    let problem = null;
    if (check.input && el.tagName !== "INPUT") problem = "not_input";
    else if (!check.input && check.expect && !pattern(check.expect).test(text)) problem = "mismatch";
    else if (isDisabled(el)) problem = "disabled";
    else if (!visible) problem = "hidden";
    else if (check.amount !== null && check.amount !== undefined && check.shown) {
      if (!shownAmount(text, check.shown, check.amount).close) problem = "amount";
    }
    return { visible: visible, text: text, problem: problem };
  }
  const tick = () => new Promise((resolve) => setTimeout(resolve, 0));

  const api = {
    clicks: 0,
    log: log,
    inspect: inspect,
    async fire(els, ops, checks) {
      const plain = (c) => Object.assign({}, c, { amount: null });
      for (const op of ops) {
        const got = inspect(els[op[0]], plain(checks[op[0]]), "fire");
        if (got.problem) return { ok: false, reason: got.problem, index: op[0], text: got.text };
      }
      let step = 0;
      for (const op of ops) {
        const el = els[op[0]];
        const check = checks[op[0]];
        if (step > 0) {
          await null; // microtasks run: a framework commits the previous step's render
          const wait = check.amount !== null && check.amount !== undefined;
          const until = performance.now() + (wait ? AMOUNT_WAIT_MS : 0);
          let got = inspect(el, check, "recheck");
          while (got.problem === "amount" && performance.now() < until) {
            await tick();
            got = inspect(el, check, "recheck");
          }
          if (got.problem) {
            return { ok: false, reason: got.problem, index: op[0], text: got.text, steps: step };
          }
        }
        if (op[1] === "fill") {
          if (el.value !== op[2]) {
            // the native setter + input event is what frameworks (React) listen to
            setter.call(el, op[2]);
            el.dispatchEvent(new Event("input", { bubbles: true }));
            el.dispatchEvent(new Event("change", { bubbles: true }));
          }
        } else {
          el.click();
        }
        step += 1;
      }
      return { ok: true, t: performance.timeOrigin + performance.now() };
    },
    recent(n) {
      return log.slice(-n);
    },
  };
  window.addEventListener(
    "click",
    (ev) => {
      api.clicks += 1;
      const t = ev.target;
      log.push([performance.timeOrigin + ev.timeStamp, t && t.textContent ? textOf(t).slice(0, 40) : ""]);
      if (log.length > 4000) log.splice(0, 2000);
    },
    true,
  );
  Object.defineProperty(window, "__rugsdExec", { value: api, enumerable: false });
})();
