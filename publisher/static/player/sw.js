/*
 * The player's service worker: lets a lobby screen reload its page while the network is down.
 * The page and its scripts are network-first (fresh when online, kept copy when not); slides
 * are content-addressed and never change, so they are cache-first. The playlist API and the
 * push stream are left to the page, which keeps its own copy of the playlist.
 */
const CACHE = "publisher-player-v1";
const SLIDES = "publisher-slides-v1";

self.addEventListener("install", () => self.skipWaiting());
self.addEventListener("activate", (event) => event.waitUntil(self.clients.claim()));

self.addEventListener("fetch", (event) => {
  const req = event.request;
  if (req.method !== "GET") return;
  const url = new URL(req.url);
  if (url.origin !== self.location.origin) return;
  if (url.pathname.startsWith("/slides/")) {
    event.respondWith(
      caches.open(SLIDES).then(async (cache) => {
        const hit = await cache.match(req);
        if (hit) return hit;
        const resp = await fetch(req);
        if (resp.ok) cache.put(req, resp.clone());
        return resp;
      }),
    );
    return;
  }
  const page = url.pathname.startsWith("/play/") && !url.pathname.endsWith("/sw.js");
  if (page || url.pathname.startsWith("/static/player/")) {
    event.respondWith(
      fetch(req)
        .then((resp) => {
          if (resp.ok) {
            const copy = resp.clone();
            caches.open(CACHE).then((cache) => cache.put(req, copy));
          }
          return resp;
        })
        .catch(() =>
          caches
            .match(req)
            // a kiosk restarting offline opens /play/<id>?token=…: its kept page is /play/<id>
            .then((hit) => hit || (page ? caches.match(url.origin + url.pathname) : undefined))
            .then((hit) => hit || Response.error()),
        ),
    );
  }
});
