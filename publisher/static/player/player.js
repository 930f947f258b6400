/*
 * The lobby player: plays the screen's playlist, forever, whatever the network does.
 *
 * - Slides are <img> elements; the next one is fetched and decoded while hidden, then shown in
 *   one step, so there is never a blank frame. The visible one carries data-item-id.
 * - The playlist is polled with its ETag (304 when unchanged) and re-fetched at once when the
 *   server pushes `event: playlist` over SSE (an emergency arrives within a second) or when it
 *   says the playlist runs out (valid_until).
 * - Offline: slides are kept as blobs in memory and in the Cache API (when the page is a secure
 *   context), the last playlist in localStorage, and a service worker keeps the page itself;
 *   the player keeps looping and shows a discreet offline mark.
 * - Proof of play: a heartbeat with the slide on screen, on slide changes (at most every
 *   HEARTBEAT_MIN_GAP_MS) and every heartbeat interval; each slide shown is told to plays.js,
 *   which keeps and sends the plays.
 */
(() => {
  "use strict";

  const body = document.body;
  const SCREEN = body.dataset.screen;
  const POLL_MS = Math.max(1, Number(body.dataset.pollS) || 30) * 1000;
  const HEARTBEAT_MS = Math.max(1, Number(body.dataset.heartbeatS) || 30) * 1000;
  const HEARTBEAT_MIN_GAP_MS = 5000;
  const RETRY_MS = 5000;
  const API = `/api/screens/${encodeURIComponent(SCREEN)}`;
  const STORE_KEY = `publisher.playlist.${SCREEN}`;
  const CACHE_NAME = "publisher-slides-v1";

  const imgs = [document.getElementById("slide-a"), document.getElementById("slide-b")];
  const stage = document.getElementById("stage");
  const offlineMark = document.getElementById("offline");
  const clock = document.getElementById("clock");

  let playlist = null; // {version, override, valid_until, entries: [{item_id, lang, duration_s, slide}]}
  let etag = null;
  let index = -1;
  let front = 0;
  let timer = null;
  let validTimer = null;
  let showing = null; // the entry on screen
  let lastBeat = 0;
  const blobs = new Map(); // slide URL -> object URL


  // -- online / offline -------------------------------------------------------------------------

  function setOnline(online) {
    offlineMark.hidden = online;
    body.classList.toggle("offline", !online);
  }

  // -- slides -----------------------------------------------------------------------------------

  let cachePromise = null;
  function openCache() {
    if (!("caches" in window) || !window.isSecureContext) return Promise.resolve(null);
    if (!cachePromise) cachePromise = caches.open(CACHE_NAME).catch(() => null);
    return cachePromise;
  }

  async function slideUrl(url) {
    if (blobs.has(url)) return blobs.get(url);
    const full = url; // the screen's cookie carries its token
    const cache = await openCache();
    let resp = cache ? await cache.match(full) : null;
    if (!resp) {
      resp = await fetch(full, { cache: "force-cache" });
      if (!resp.ok) throw new Error(`slide ${url}: HTTP ${resp.status}`);
      if (cache) cache.put(full, resp.clone()).catch(() => {});
    }
    const objectUrl = URL.createObjectURL(await resp.blob());
    blobs.set(url, objectUrl);
    return objectUrl;
  }

  function forgetUnused() {
    const wanted = new Set((playlist ? playlist.entries : []).map((e) => e.slide));
    for (const [url, objectUrl] of blobs) {
      if (!wanted.has(url) && !(showing && showing.slide === url)) {
        URL.revokeObjectURL(objectUrl);
        blobs.delete(url);
      }
    }
  }

  async function preloadAll(list) {
    for (const entry of list.entries) {
      try {
        await slideUrl(entry.slide);
      } catch (e) {
        return; // offline: the ones already kept will do
      }
    }
  }

  async function show(entry) {
    const back = imgs[1 - front];
    back.src = await slideUrl(entry.slide);
    await back.decode();
    back.dataset.itemId = String(entry.item_id);
    back.dataset.lang = entry.lang;
    back.dataset.role = entry.role || "";
    back.alt = `item ${entry.item_id} (${entry.lang})`;
    // one step: the decoded slide appears as the old one goes
    back.classList.add("current");
    imgs[front].classList.remove("current");
    delete imgs[front].dataset.itemId;
    front = 1 - front;
    stage.dataset.itemId = String(entry.item_id);
    showing = entry;
    if (window.publisherPlays) window.publisherPlays.shown(entry);
    heartbeat(false);
  }

  async function advance() {
    clearTimeout(timer);
    const list = playlist;
    if (!list || list.entries.length === 0) {
      imgs.forEach((img) => {
        img.classList.remove("current");
        delete img.dataset.itemId;
      });
      delete stage.dataset.itemId;
      showing = null;
      if (window.publisherPlays) window.publisherPlays.stopped();
      timer = setTimeout(advance, RETRY_MS);
      return;
    }
    for (let tries = 0; tries < list.entries.length; tries++) {
      index = (index + 1) % list.entries.length;
      const entry = list.entries[index];
      try {
        await show(entry);
      } catch (e) {
        continue; // this slide cannot be had now: try the next, keep the current one up
      }
      if (list !== playlist) return; // a newer playlist took over while decoding
      timer = setTimeout(advance, Math.max(0.2, Number(entry.duration_s)) * 1000);
      return;
    }
    timer = setTimeout(advance, RETRY_MS);
  }

  // -- the playlist -----------------------------------------------------------------------------

  function apply(list) {
    if (!list || !Array.isArray(list.entries)) return;
    if (playlist && list.version === playlist.version) return;
    const previous = playlist;
    playlist = list;
    try {
      localStorage.setItem(STORE_KEY, JSON.stringify(list));
    } catch (e) {
      /* storage full or disabled: the in-memory copy still plays */
    }
    scheduleValidity(list);
    if (window.publisherAlert) window.publisherAlert.onPlaylist(list, previous); // alert.js
    const urgent = !previous || !showing || list.override || previous.override;
    if (urgent) {
      index = -1;
      advance();
    } else {
      // carry on after the slide on screen, or from the start if it has gone
      const at = list.entries.findIndex(
        (e) => e.item_id === showing.item_id && e.lang === showing.lang,
      );
      index = at;
    }
    preloadAll(list).then(forgetUnused);
  }

  function scheduleValidity(list) {
    clearTimeout(validTimer);
    const until = Date.parse(list.valid_until || "");
    if (!Number.isNaN(until)) {
      const wait = Math.min(Math.max(until - Date.now() + 250, 1000), 2 ** 31 - 1);
      validTimer = setTimeout(fetchPlaylist, wait);
    }
  }

  let fetching = null;
  function fetchPlaylist() {
    if (fetching) return fetching;
    const headers = etag ? { "If-None-Match": etag } : {};
    fetching = fetch(`${API}/playlist`, { headers, cache: "no-store" })
      .then(async (resp) => {
        if (resp.status === 304) {
          setOnline(true);
          return;
        }
        if (!resp.ok) throw new Error(`playlist: HTTP ${resp.status}`);
        const list = await resp.json();
        etag = resp.headers.get("ETag");
        setOnline(true);
        apply(list);
      })
      .catch(() => setOnline(false))
      .finally(() => {
        fetching = null;
      });
    return fetching;
  }

  // -- push -------------------------------------------------------------------------------------

  function connectEvents() {
    if (!("EventSource" in window)) return;
    const events = new EventSource(`${API}/events`);
    const onVersion = (e) => {
      setOnline(true);
      let data = {};
      try {
        data = JSON.parse(e.data);
      } catch (err) {
        /* a malformed event only means: go and look */
      }
      if (!playlist || data.version !== playlist.version) fetchPlaylist();
    };
    events.addEventListener("hello", onVersion);
    events.addEventListener("playlist", onVersion);
    events.onerror = () => {
      fetchPlaylist(); // tells online from offline and catches up
      if (events.readyState === EventSource.CLOSED) setTimeout(connectEvents, RETRY_MS * 2);
    };
  }

  // -- proof of play ----------------------------------------------------------------------------

  function heartbeat(force) {
    const now = Date.now();
    if (!force && now - lastBeat < HEARTBEAT_MIN_GAP_MS) return;
    lastBeat = now;
    const slide = showing ? showing.slide.split("/").pop().split(".")[0] : null;
    fetch(`${API}/heartbeat`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({
        item_id: showing ? showing.item_id : null,
        slide,
        version: playlist ? playlist.version : null,
      }),
      keepalive: true,
    })
      .then((resp) => setOnline(resp.ok || resp.status < 500))
      .catch(() => setOnline(false));
  }

  // -- clock ------------------------------------------------------------------------------------

  const hhmm = new Intl.DateTimeFormat("ja-JP", {
    hour: "2-digit",
    minute: "2-digit",
    hour12: false,
    timeZone: "Asia/Tokyo",
  });
  function tick() {
    clock.textContent = hhmm.format(new Date());
    setTimeout(tick, 1000 - (Date.now() % 1000) + 5);
  }

  // -- start ------------------------------------------------------------------------------------

  function start() {
    tick();
    try {
      const saved = JSON.parse(localStorage.getItem(STORE_KEY) || "null");
      if (saved) apply(saved);
    } catch (e) {
      /* nothing usable saved */
    }
    fetchPlaylist();
    connectEvents();
    setInterval(fetchPlaylist, POLL_MS);
    setInterval(() => heartbeat(true), HEARTBEAT_MS);
    if ("serviceWorker" in navigator && window.isSecureContext && body.dataset.sw) {
      navigator.serviceWorker.register(body.dataset.sw, { scope: "/play/" }).catch(() => {});
    }
  }

  start();
})();
