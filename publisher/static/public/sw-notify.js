// The service worker of residents' notifications (served as /notifications/sw.js). A push
// carries JSON made by publisher/render/notification.py: title (marked 訓練 / DRILL for a
// drill), body, lang, url, tag, emergency, unsubscribe (a link with its own token), words.
// When the push service rotates the subscription (pushsubscriptionchange), it subscribes again
// with the same applicationServerKey and tells the server, proving it held the old one with
// the token the area page kept (notify.js) or the old subscription's keys.auth.
"use strict";

var KEPT = "/notifications/subscription";

function kept() {
  return caches.open("publisher-notify")
    .then(function (cache) { return cache.match(KEPT); })
    .then(function (r) { return r ? r.json() : null; })
    .catch(function () { return null; });
}

function keep(record) {
  return caches.open("publisher-notify").then(function (cache) {
    return record ? cache.put(KEPT, new Response(JSON.stringify(record))) : cache.delete(KEPT);
  });
}

function postJSON(url, body) {
  return fetch(url, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
    credentials: "omit"
  }).then(function (r) {
    return r.json().catch(function () { return {}; }).then(function (answer) {
      answer.status = r.status;
      return answer;
    });
  });
}

function keyBytes(b64) {
  var padded = (b64 + "===".slice((b64.length + 3) % 4)).replace(/-/g, "+").replace(/_/g, "/");
  var raw = atob(padded);
  var out = new Uint8Array(raw.length);
  for (var i = 0; i < raw.length; i++) out[i] = raw.charCodeAt(i);
  return out;
}

function subscribeAgain(oldSub) {
  var key = oldSub && oldSub.options && oldSub.options.applicationServerKey;
  var keyed = key ? Promise.resolve(key) : fetch("/notifications/key", { credentials: "omit" })
    .then(function (r) { return r.json(); })
    .then(function (d) { return keyBytes(d.key); });
  return keyed.then(function (applicationServerKey) {
    return self.registration.pushManager.subscribe({
      userVisibleOnly: true, applicationServerKey: applicationServerKey
    });
  });
}

// The old subscription may be missing (some browsers give none): then the kept record names
// it. Without either there is nothing to renew; the resident subscribes again on the page.
function renew(oldSub, newSub) {
  return kept().then(function (record) {
    var oldEndpoint = (oldSub && oldSub.endpoint) || (record && record.endpoint);
    if (!oldEndpoint) return null;
    var proof = { endpoint: oldEndpoint };
    if (record && record.endpoint === oldEndpoint && record.token) proof.token = record.token;
    var oldJSON = oldSub && oldSub.toJSON ? oldSub.toJSON() : null;
    if (oldJSON && oldJSON.keys && oldJSON.keys.auth) proof.auth = oldJSON.keys.auth;
    return (newSub ? Promise.resolve(newSub) : subscribeAgain(oldSub)).then(function (sub) {
      var lang = record && record.lang;
      return postJSON("/notifications/resubscribe", {
        old: proof, subscription: sub.toJSON(), lang: lang
      }).then(function (answer) {
        if (answer.status === 404 && record && record.area) {
          // the server forgot the old one (its push service said it was gone): sign up anew
          return postJSON("/notifications/subscribe", {
            subscription: sub.toJSON(), area: record.area, lang: record.lang,
            choice: record.choice
          });
        }
        return answer;
      }).then(function (answer) {
        if (!answer.ok) throw new Error("renewing the subscription: " + answer.status);
        var next = Object.assign({}, record || {}, { endpoint: sub.endpoint, token: answer.token });
        return keep(next);
      });
    });
  });
}

function notificationOptions(d) {
  return {
    body: d.body,
    lang: d.lang,
    tag: d.tag,                    // the same item again replaces its notification
    renotify: false,
    requireInteraction: !!d.emergency,
    data: { url: d.url, unsubscribe: d.unsubscribe },
    actions: [
      { action: "open", title: d.words.open },
      { action: "unsubscribe", title: d.words.unsubscribe }
    ]
  };
}

self.addEventListener("install", function () { self.skipWaiting(); });
self.addEventListener("activate", function (event) { event.waitUntil(self.clients.claim()); });

self.addEventListener("push", function (event) {
  if (!event.data) return;
  var d;
  try { d = event.data.json(); } catch (e) { return; }
  event.waitUntil(self.registration.showNotification(d.title, notificationOptions(d)));
});

self.addEventListener("notificationclick", function (event) {
  var n = event.notification;
  n.close();
  var data = n.data || {};
  if (event.action === "unsubscribe") {
    event.waitUntil(
      fetch(data.unsubscribe, { method: "POST", credentials: "omit" })
        .then(function () { return keep(null); })
        .then(function () { return self.registration.pushManager.getSubscription(); })
        .then(function (sub) { return sub && sub.unsubscribe(); })
    );
    return;
  }
  event.waitUntil(self.clients.openWindow(data.url));
});

self.addEventListener("pushsubscriptionchange", function (event) {
  event.waitUntil(renew(event.oldSubscription, event.newSubscription));
});
