// rugsd executor helper, installed in every page of the executor's browser context
// (page.add_init_script). `fire` checks every element first (present, attached, enabled)
// and only then acts, so a missing control never leaves a half-entered order; it returns
// at once (no waits). A capture listener counts clicks and keeps their in-page wall-clock
// time (performance.timeOrigin + event.timeStamp) for the tick->click benchmark.
(() => {
  if (window.__rugsdExec) return;
  const setter = Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, "value").set;
  const log = [];
  const api = {
    clicks: 0,
    log: log,
    fire(els, ops) {
      for (const op of ops) {
        const el = els[op[0]];
        if (!el || !el.isConnected) return { ok: false, reason: "stale", index: op[0] };
        if (el.disabled || el.getAttribute("aria-disabled") === "true") {
          return { ok: false, reason: "disabled", index: op[0] };
        }
      }
      for (const op of ops) {
        const el = els[op[0]];
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
      const b = ev.target && ev.target.closest ? ev.target.closest("button") : null;
      log.push([performance.timeOrigin + ev.timeStamp, b ? b.textContent.trim() : ""]);
      if (log.length > 4000) log.splice(0, 2000);
    },
    true,
  );
  Object.defineProperty(window, "__rugsdExec", { value: api, enumerable: false });
})();
