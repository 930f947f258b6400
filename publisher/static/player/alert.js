/*
 * The player's emergency layer: an attention transition, a chime and a spoken announcement.
 *
 * player.js calls window.publisherAlert.onPlaylist(list, previous) whenever a new playlist
 * applies. When an emergency (or drill) takes over (list.override) this:
 *
 * - shows a brief attention band — 「緊急情報 Emergency」, or 「訓練 Drill」 in the drill's
 *   yellow and black — that slides in once and fades after a few seconds: nothing flashes
 *   (WCAG 2.3.1 allows at most three flashes a second; this has none);
 * - plays list.audio.clips in order (the chime, then Japanese, then each other language), at
 *   list.audio.volume, and again every list.audio.every_s seconds while the emergency lasts.
 *
 * When the emergency ends, the announcement stops at once. Kiosk Chromium must be started with
 * --autoplay-policy=no-user-gesture-required (README), or the audio waits for a first touch.
 * Everything played is kept in window.publisherAlert.played (proof of play, tests).
 */
(() => {
  "use strict";

  const body = document.body;
  const BAND_MS = 4000;
  const audio = document.getElementById("announce");
  const band = document.getElementById("attention");

  let current = null; // the audio block of the emergency now playing
  let key = null; // what the emergency is (its clips): a new one restarts the announcement
  let repeatTimer = null;
  let bandTimer = null;
  let run = 0; // a new announcement cancels the one in progress

  const state = { played: [], blocked: null, onPlaylist };
  window.publisherAlert = state;


  function attention(drill) {
    if (!band) return;
    clearTimeout(bandTimer);
    band.classList.toggle("drill", drill);
    band.hidden = false;
    band.classList.remove("shown");
    void band.offsetWidth; // restart the one-off transition
    band.classList.add("shown");
    bandTimer = setTimeout(() => {
      band.classList.remove("shown");
      bandTimer = setTimeout(() => (band.hidden = true), 800);
    }, BAND_MS);
  }

  function playClip(clip, mine) {
    return new Promise((resolve) => {
      if (mine !== run || !audio) return resolve();
      const done = () => {
        audio.onended = audio.onerror = null;
        resolve();
      };
      audio.onended = done;
      audio.onerror = done; // a missing language must not silence the rest
      audio.src = clip.src;
      audio.dataset.lang = clip.lang;
      audio.volume = Math.min(1, Math.max(0, Number(current && current.volume) || 0.8));
      audio
        .play()
        .then(() => {
          state.blocked = null;
          state.played.push({ lang: clip.lang, src: clip.src, at: Date.now() });
        })
        .catch((e) => {
          state.blocked = String(e && e.name); // NotAllowedError: autoplay needs the kiosk flag
          done();
        });
    });
  }

  async function announce() {
    clearTimeout(repeatTimer);
    if (!current) return;
    const mine = ++run;
    body.dataset.announcing = "1";
    for (const clip of current.clips) {
      await playClip(clip, mine);
      if (mine !== run) return;
    }
    delete body.dataset.announcing;
    const every = Number(current.every_s) || 0;
    if (every > 0) repeatTimer = setTimeout(announce, every * 1000);
  }

  function stop() {
    run++;
    clearTimeout(repeatTimer);
    current = null;
    key = null;
    delete body.dataset.announcing;
    body.classList.remove("takeover", "takeover-drill");
    clearTimeout(bandTimer);
    if (band) {
      band.classList.remove("shown");
      band.hidden = true;
    }
    if (audio) {
      audio.pause();
      audio.removeAttribute("src");
    }
  }

  function onPlaylist(list, previous) {
    if (!list || !list.override) {
      if (current || body.classList.contains("takeover")) stop();
      return;
    }
    const drill = Array.isArray(list.entries) && list.entries.every((e) => e.drill);
    const wasOver = previous && previous.override;
    body.classList.add("takeover");
    body.classList.toggle("takeover-drill", drill);
    const newKey = list.audio ? list.audio.clips.map((c) => c.src).join(" ") : "";
    if (!wasOver || newKey !== key) attention(drill);
    if (newKey === key) return;
    key = newKey;
    current = list.audio || null;
    if (current) announce();
  }
})();
