// The service worker of residents' notifications (served as /notifications/sw.js). A push
// carries JSON made by publisher/render/notification.py: title (marked 訓練 / DRILL for a
// drill), body, lang, url, tag, emergency, unsubscribe (a link with its own token), words.
"use strict";

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
        .then(function () { return self.registration.pushManager.getSubscription(); })
        .then(function (sub) { return sub && sub.unsubscribe(); })
    );
    return;
  }
  event.waitUntil(self.clients.openWindow(data.url));
});
