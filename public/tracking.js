/*
 * Call tracking snippet (dynamic number insertion). Put it on the website:
 *   <script src="https://crm.example.com/tracking.js" data-pool="website" data-number="(555) 010-0000" async></script>
 * data-pool: the DNI pool; data-number: the number(s) printed on the page, comma-separated.
 * It leases a pool number for this visitor and writes it wherever the page shows one of those
 * numbers, in text and tel: links, including content added later. If the service cannot be
 * reached the page keeps its own number. No dependencies; no cookies sent to the service.
 */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || !window.fetch || !window.MutationObserver) return;
  var pool = script.getAttribute("data-pool");
  var targets = (script.getAttribute("data-number") || "").split(",").map(digitsOf).filter(function (d) {
    return d.length >= 7;
  });
  if (!pool || targets.length === 0) return;

  var endpoint = new URL(script.src, location.href).origin + "/api/tracking/sessions";
  var SESSION_KEY = "ccrm_session:" + pool;
  var FIRST_TOUCH_COOKIE = "ccrm_ft";
  var RENEW_MS = 5 * 60 * 1000;
  var PHONE_TEXT = /\+?\d[\d\s().\-\u00a0]{5,}\d/g;
  var SKIP = { SCRIPT: 1, STYLE: 1, TEXTAREA: 1, INPUT: 1, NOSCRIPT: 1 };
  var leased = null;

  function digitsOf(s) {
    return String(s).replace(/\D/g, "");
  }
  // "(555) 010-0000" and "+15550100000" are the same number: compare digit runs, allowing a
  // country code on either side.
  function isTarget(digits) {
    for (var i = 0; i < targets.length; i++) {
      var t = targets[i];
      if (digits.length >= 7 && (t === digits || t.slice(-digits.length) === digits || digits.slice(-t.length) === t)) return true;
    }
    return false;
  }
  // The leased number written in the original's own format: digits replaced from the right.
  function reformat(original) {
    var fresh = digitsOf(leased);
    var count = digitsOf(original).length;
    if (count > fresh.length) return leased;
    var digits = fresh.slice(fresh.length - count).split("");
    var k = 0;
    return original.replace(/\d/g, function () {
      return digits[k++];
    });
  }
  function swapText(node) {
    var text = node.nodeValue;
    var next = text.replace(PHONE_TEXT, function (m) {
      return isTarget(digitsOf(m)) ? reformat(m) : m;
    });
    if (next !== text) node.nodeValue = next;
  }
  function swapLink(a) {
    var href = a.getAttribute("href") || "";
    if (/^tel:/i.test(href) && isTarget(digitsOf(href.split(/[;,]/)[0]))) a.setAttribute("href", "tel:" + leased);
  }
  function swapIn(root) {
    if (!leased || !root) return;
    if (root.nodeType === 3) {
      if (!root.parentNode || !SKIP[root.parentNode.nodeName]) swapText(root);
      return;
    }
    if (root.nodeType !== 1 || SKIP[root.nodeName]) return;
    if (root.nodeName === "A") swapLink(root);
    var links = root.querySelectorAll('a[href^="tel:"], a[href^="TEL:"]');
    for (var i = 0; i < links.length; i++) swapLink(links[i]);
    var walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT, {
      acceptNode: function (n) {
        return n.parentNode && SKIP[n.parentNode.nodeName] ? NodeFilter.FILTER_REJECT : NodeFilter.FILTER_ACCEPT;
      },
    });
    var texts = [];
    while (walker.nextNode()) texts.push(walker.currentNode);
    texts.forEach(swapText);
  }

  function readCookie(name) {
    var m = document.cookie.match(new RegExp("(?:^|; )" + name + "=([^;]*)"));
    return m ? decodeURIComponent(m[1]) : null;
  }
  // The first visit is remembered for 90 days, so a later call still knows where the visitor first came from.
  function firstTouch() {
    try {
      var kept = readCookie(FIRST_TOUCH_COOKIE);
      if (kept) return JSON.parse(kept);
    } catch (_e) {
      /* a damaged cookie is replaced below */
    }
    var touch = { landingPage: location.href.slice(0, 2000) };
    if (document.referrer) touch.referrer = document.referrer.slice(0, 2000);
    document.cookie = FIRST_TOUCH_COOKIE + "=" + encodeURIComponent(JSON.stringify(touch)) + "; max-age=7776000; path=/; SameSite=Lax";
    return touch;
  }
  function storedSession() {
    try {
      return localStorage.getItem(SESSION_KEY);
    } catch (_e) {
      return null;
    }
  }
  function storeSession(id) {
    try {
      if (id) localStorage.setItem(SESSION_KEY, id);
      else localStorage.removeItem(SESSION_KEY);
    } catch (_e) {
      /* private mode: the session lasts as long as the page */
    }
  }

  var sessionId = storedSession();
  function lease(retried) {
    var body = { pool: pool, landingPage: location.href.slice(0, 2000), firstTouch: firstTouch() };
    if (document.referrer) body.referrer = document.referrer.slice(0, 2000);
    if (sessionId) body.sessionId = sessionId;
    var abort = window.AbortController ? new AbortController() : null;
    var timer = abort && setTimeout(function () {
      abort.abort();
    }, 5000);
    // text/plain keeps this a simple cross-origin request (no preflight).
    fetch(endpoint, { method: "POST", headers: { "Content-Type": "text/plain" }, body: JSON.stringify(body), credentials: "omit", signal: abort && abort.signal })
      .then(function (res) {
        if (res.status === 404 && sessionId && !retried) {
          sessionId = null;
          storeSession(null);
          return lease(true);
        }
        if (!res.ok) return;
        return res.json().then(function (data) {
          sessionId = data.sessionId;
          storeSession(sessionId);
          if (data.number) {
            // A renewal may bring another number: the one shown so far is now swapped too.
            if (leased && leased !== data.number) targets.push(digitsOf(leased));
            leased = data.number;
            swapIn(document.body);
          }
        });
      })
      .catch(function () {
        /* unreachable: the page keeps its own number */
      })
      .then(function () {
        if (timer) clearTimeout(timer);
      });
  }

  function start() {
    new MutationObserver(function (changes) {
      changes.forEach(function (c) {
        if (c.type === "characterData") swapIn(c.target);
        for (var i = 0; i < c.addedNodes.length; i++) swapIn(c.addedNodes[i]);
      });
    }).observe(document.body, { childList: true, subtree: true, characterData: true });
    lease(false);
    // The lease is renewed while the page is open and in view.
    setInterval(function () {
      if (document.visibilityState !== "hidden") lease(false);
    }, RENEW_MS);
  }
  if (document.body) start();
  else document.addEventListener("DOMContentLoaded", start);
})();
