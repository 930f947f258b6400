/*
 * Proof of play: every slide the player actually showed, with its start and seconds on screen.
 *
 * player.js calls window.publisherPlays.shown(entry) when a slide appears; the slide before it
 * is then closed with the time it really stayed up. Plays wait in localStorage (they survive a
 * reload and a night offline) and are sent in batches to POST /api/screens/<id>/plays; a batch
 * is removed only once the server has answered it. Each play carries a sequence number that
 * this screen's player never reuses (it starts from the clock when the storage is new), so a
 * batch sent twice — an answer lost, the network back — is stored once.
 */
(() => {
  "use strict";

  const body = document.body;
  const SCREEN = body.dataset.screen;
  const SEND_MS = Math.max(1, Number(body.dataset.playsS) || 30) * 1000;
  const API = `/api/screens/${encodeURIComponent(SCREEN)}/plays`;
  const KEY = `publisher.plays.${SCREEN}`;
  const SEQ_KEY = `publisher.playseq.${SCREEN}`;
  const MAX_KEPT = 60000; // about a week of slides; the oldest go first beyond it
  const BATCH = 500;

  let current = null; // {seq, item_id, revision, lang, start, t0}
  let sending = false;

  function load() {
    try {
      return JSON.parse(localStorage.getItem(KEY) || "[]");
    } catch (e) {
      return [];
    }
  }

  function save(plays) {
    try {
      localStorage.setItem(KEY, JSON.stringify(plays.slice(-MAX_KEPT)));
    } catch (e) {
      /* storage full: keep what fits next time */
    }
  }

  function nextSeq() {
    let seq = Number(localStorage.getItem(SEQ_KEY));
    if (!seq) seq = Date.now() * 1000; // a new storage starts beyond every number used before
    seq += 1;
    localStorage.setItem(SEQ_KEY, String(seq));
    return seq;
  }

  function close(now) {
    if (!current) return;
    const seconds = Math.round((now - current.t0) / 100) / 10;
    const done = current;
    current = null;
    if (seconds <= 0) return;
    const plays = load();
    plays.push({
      seq: done.seq,
      item_id: done.item_id,
      revision: done.revision,
      lang: done.lang,
      start: done.start,
      seconds: Math.min(seconds, 3600),
    });
    save(plays);
  }

  function shown(entry) {
    const now = Date.now();
    close(now);
    if (!entry || !entry.item_id) return;
    current = {
      seq: nextSeq(),
      item_id: entry.item_id,
      revision: entry.revision || 0,
      lang: entry.lang,
      start: new Date(now).toISOString(),
      t0: now,
    };
  }

  function stopped() {
    close(Date.now());
  }

  async function send() {
    if (sending) return;
    const plays = load();
    if (plays.length === 0) return;
    sending = true;
    const batch = plays.slice(0, BATCH);
    try {
      const resp = await fetch(API, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ plays: batch }),
        cache: "no-store",
      });
      // 2xx: stored (or already stored); 4xx: refused for good (the answer says why)
      if (resp.ok || (resp.status >= 400 && resp.status < 500 && resp.status !== 429)) {
        const sent = new Set(batch.map((p) => p.seq));
        save(load().filter((p) => !sent.has(p.seq)));
        if (load().length > 0) setTimeout(send, 200);
      }
    } catch (e) {
      /* offline: they wait */
    } finally {
      sending = false;
    }
  }

  setInterval(send, SEND_MS);
  window.addEventListener("pagehide", stopped);
  window.publisherPlays = { shown, stopped, send, pending: () => load().length };
})();
