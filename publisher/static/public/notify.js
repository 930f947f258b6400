// Web Push sign-up on an area page: register the service worker, subscribe with the server's
// VAPID key, and tell the server the area, language and choice. Without service workers or
// PushManager the section says so; without JavaScript the <noscript> text offers RSS instead.
// What the server answers (the subscription's token) is kept in this browser's Cache Storage
// with the area, language and choice, for the service worker to renew the subscription when
// the push service rotates it (sw-notify.js, pushsubscriptionchange).
(function () {
  "use strict";
  var box = document.getElementById("notify");
  if (!box) return;
  var form = box.querySelector(".notify-form");
  var status = box.querySelector(".notify-status");
  var on = box.querySelector(".notify-on");
  var off = box.querySelector(".notify-off");
  var data = box.dataset;

  if (!("serviceWorker" in navigator) || !("PushManager" in window) || !("Notification" in window)) {
    box.querySelector(".notify-unsupported").hidden = false;
    return;
  }
  form.hidden = false;

  function say(text) { status.textContent = text; }

  function keyBytes(b64) {
    var padded = (b64 + "===".slice((b64.length + 3) % 4)).replace(/-/g, "+").replace(/_/g, "/");
    var raw = atob(padded);
    var out = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) out[i] = raw.charCodeAt(i);
    return out;
  }

  function post(url, body) {
    return fetch(url, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
      credentials: "omit"
    }).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (answer) {
        if (r.ok) return answer;
        var error = new Error("server answered " + r.status);
        // too many sign-ups (429) or the area is full (403): the server's words, in our language
        if ((r.status === 429 || r.status === 403) && answer.error) error.shown = answer.error;
        throw error;
      });
    });
  }

  var KEPT = "/notifications/subscription";
  function remember(record) {
    if (!("caches" in window)) return Promise.resolve();
    return caches.open("publisher-notify").then(function (cache) {
      return record ? cache.put(KEPT, new Response(JSON.stringify(record)))
                    : cache.delete(KEPT);
    }).catch(function () {});
  }

  function showState(subscribed) {
    off.hidden = !subscribed;
    say(subscribed ? data.msgOn : data.msgOff);
  }

  var ready = navigator.serviceWorker.register(data.worker, { scope: "/notifications/" })
    .then(function () { return navigator.serviceWorker.getRegistration("/notifications/"); })
    .then(function (reg) {
      return reg.active ? reg : new Promise(function (resolve) {
        var worker = reg.installing || reg.waiting;
        if (!worker) return resolve(reg);
        worker.addEventListener("statechange", function () {
          if (worker.state === "activated") resolve(reg);
        });
      });
    });

  ready.then(function (reg) { return reg.pushManager.getSubscription(); })
    .then(function (sub) { if (sub) showState(true); })
    .catch(function () {});

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    on.disabled = true;
    say(data.msgWorking);
    var choice = form.querySelector("input[name=choice]:checked").value;
    var lang = form.querySelector("select[name=lang]").value;
    Notification.requestPermission().then(function (permission) {
      if (permission !== "granted") { say(data.msgDenied); return null; }
      return Promise.all([ready, fetch(data.keyUrl).then(function (r) { return r.json(); })])
        .then(function (both) {
          var reg = both[0], key = both[1].key;
          return reg.pushManager.getSubscription().then(function (old) {
            return old || reg.pushManager.subscribe({
              userVisibleOnly: true, applicationServerKey: keyBytes(key)
            });
          });
        })
        .then(function (sub) {
          return post(data.subscribeUrl, {
            subscription: sub.toJSON(), area: data.area, lang: lang, choice: choice
          }).then(function (answer) {
            return remember({
              endpoint: sub.endpoint, token: answer.token,
              area: data.area, lang: lang, choice: choice
            });
          });
        })
        .then(function () { showState(true); });
    }).catch(function (error) { say((error && error.shown) || data.msgFailed); })
      .then(function () { on.disabled = false; });
  });

  off.addEventListener("click", function () {
    ready.then(function (reg) { return reg.pushManager.getSubscription(); })
      .then(function (sub) {
        if (!sub) return null;
        return post(data.unsubscribeUrl, { endpoint: sub.endpoint })
          .then(function () { return remember(null); })
          .then(function () { return sub.unsubscribe(); });
      })
      .then(function () { showState(false); })
      .catch(function () { say(data.msgFailed); });
  });
})();
