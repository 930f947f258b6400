"""Spoken announcements and the attention chime: audio files named by their content, like slides.

When an emergency or drill takes over a screen with a speaker, the player plays the chime, then
the announcement in Japanese and in each other language that has a voice: what the alert is
(警戒レベル4 避難指示), its title and the first sentence of its body; a drill begins with
「これは訓練です」/ "This is a drill".

Voices (Debian packages, installed by ``scripts/system-deps.sh``):

- ja, やさしい日本語: Open JTalk (``open-jtalk``, ``open-jtalk-mecab-naist-jdic``) with an HTS voice
  — ``hts-voice-nitech-jp-atr503-m001`` (Debian non-free) or any ``.htsvoice`` file
  (``PUBLISHER_JTALK_VOICE``, or one under ``/usr/share/hts-voice/``);
- en, zh-Hans, ko: ``espeak-ng`` (en-us, cmn, ko);
- zh-Hant: ``espeak-ng``'s Mandarin voice (cmn) reads traditional characters too; it is a
  mainland accent, not Taiwanese Mandarin, and there is no Cantonese-free alternative packaged.

A missing engine or voice never breaks a screen: the language is left out of the announcement
and the reason is logged once (:func:`find_voices` says what is missing).
"""

from __future__ import annotations

import hashlib
import io
import logging
import math
import os
import re
import shutil
import struct
import subprocess
import tempfile
import threading
import wave
from dataclasses import dataclass, field
from pathlib import Path

from publisher.files import write_atomic
from publisher.items import Item
from publisher.render import labels
from publisher.render.theme import is_drill

log = logging.getLogger(__name__)

SPEECH_VERSION = "1"
SPEECH_TIMEOUT_S = 20
JTALK_LANGS = ("ja", "ja-x-easy")
ESPEAK_VOICES = {"en": "en-us", "zh-Hans": "cmn", "zh-Hant": "cmn", "ko": "ko"}
JTALK_DICTIONARIES = ("/var/lib/mecab/dic/open-jtalk/naist-jdic",)
HTS_VOICE_DIRS = ("/usr/share/hts-voice",)
# The chime: four rising notes (F5 A5 C6 F6), as Japanese public-address systems announce.
CHIME_NOTES_HZ = (698.46, 880.0, 1046.5, 1396.9)
CHIME_NOTE_S = 0.42
CHIME_RATE = 22050
_SENTENCE_END = re.compile(r"(.+?(?:[。．！？]|[.!?](?=\s|$)))", re.S)
# Spoken first in a drill, in each language (a drill's title marks are not read out).
DRILL_SPOKEN = {
    "ja": "これは訓練です",
    "ja-x-easy": "これは くんれん です",
    "en": "This is a drill",
    "zh-Hans": "这是演练",
    "zh-Hant": "這是演練",
    "ko": "이것은 훈련입니다",
}
_DRILL_MARK = re.compile(r"[【\[](?:訓練|くんれん|DRILL|EXERCISE|演练|演練|훈련)[】\]]", re.I)
_warned: set[str] = set()


@dataclass(frozen=True)
class Voices:
    """The speech engines found on this machine, and what is missing (for the log)."""

    jtalk: str | None = None
    jtalk_dictionary: str | None = None
    jtalk_voice: str | None = None
    espeak: str | None = None
    missing: tuple[str, ...] = field(default=())

    def can_speak(self, lang: str) -> bool:
        if lang in JTALK_LANGS:
            return bool(self.jtalk and self.jtalk_dictionary and self.jtalk_voice)
        return bool(self.espeak and lang in ESPEAK_VOICES)

    def engine(self, lang: str) -> str:
        """What the audio of ``lang`` depends on (part of its content key)."""
        if lang in JTALK_LANGS:
            return f"open_jtalk:{os.path.basename(self.jtalk_voice or '')}"
        return f"espeak-ng:{ESPEAK_VOICES.get(lang, '')}"


def find_voices(jtalk_voice: str | Path | None = None) -> Voices:
    """Open JTalk (binary, dictionary, a voice) and espeak-ng, as installed here."""
    missing = []
    jtalk = shutil.which("open_jtalk")
    if not jtalk:
        missing.append("open_jtalk (apt-get install open-jtalk)")
    dictionary = next((d for d in JTALK_DICTIONARIES if Path(d, "sys.dic").exists()), None)
    if not dictionary:
        missing.append("the Open JTalk dictionary (apt-get install open-jtalk-mecab-naist-jdic)")
    voice = str(jtalk_voice) if jtalk_voice and Path(jtalk_voice).is_file() else None
    if voice is None:
        found = sorted(
            p for d in HTS_VOICE_DIRS for p in Path(d).glob("**/*.htsvoice") if _is_hts_voice(p)
        )
        # the packaged male voice first when present: it is the one Debian ships
        found.sort(key=lambda p: "nitech" not in p.name)
        voice = str(found[0]) if found else None
    if not voice:
        missing.append(
            "an Open JTalk voice (apt-get install hts-voice-nitech-jp-atr503-m001 from Debian "
            "non-free, or scripts/fetch-voice.py /usr/share/hts-voice/mei, or set "
            "PUBLISHER_JTALK_VOICE to a .htsvoice file)"
        )
    espeak = shutil.which("espeak-ng")
    if not espeak:
        missing.append("espeak-ng (apt-get install espeak-ng)")
    return Voices(jtalk, dictionary, voice, espeak, tuple(missing))


def _is_hts_voice(path: Path) -> bool:
    """A real voice (HTS voice files begin with ``[GLOBAL]``), not a licence text beside it."""
    try:
        with path.open("rb") as f:
            return f.read(8) == b"[GLOBAL]"
    except OSError:
        return False


# -- what is said -------------------------------------------------------------------------------


def first_sentence(text: str) -> str:
    text = " ".join(text.split())
    m = _SENTENCE_END.match(text)
    return m[1] if m else text


def announcement_text(item: Item, lang: str) -> str:
    """「これは訓練です」 for a drill, what it is (unless the title says it), the title and the
    first sentence of the body, in ``lang``."""
    t = item.text(lang)
    stop = "。" if lang in JTALK_LANGS or lang.startswith("zh") else "."
    title = _DRILL_MARK.sub(" ", t.title)
    title = " ".join(re.sub(r"[【】\[\]「」]", " ", title).split()).strip(" :：")
    body = t.body.strip()
    parts = []
    if is_drill(item):
        note = DRILL_SPOKEN.get(lang, DRILL_SPOKEN["en"])
        parts.append(note + stop)
        body = body.removeprefix(note).lstrip("。. ")
    kind = labels.alert_word(item, lang)
    if kind and kind.lower() not in title.lower():
        parts.append(kind + stop)
    parts.append(title + stop)
    if body:
        parts.append(first_sentence(body))
    return " ".join(parts)


@dataclass(frozen=True)
class Clip:
    """One audio file of an announcement: the chime or a language's speech."""

    lang: str  # "chime" for the chime
    key: str
    text: str = ""

    @property
    def file_name(self) -> str:
        return f"{self.key}.wav"


def speech_key(lang: str, text: str, voices: Voices) -> str:
    blob = f"{SPEECH_VERSION}\n{voices.engine(lang)}\n{lang}\n{text}".encode()
    return "s" + hashlib.sha256(blob).hexdigest()[:31]


def chime_key() -> str:
    blob = f"{SPEECH_VERSION}\nchime\n{CHIME_NOTES_HZ}\n{CHIME_NOTE_S}\n{CHIME_RATE}".encode()
    return "c" + hashlib.sha256(blob).hexdigest()[:31]


def announcement(items: list[Item], langs_order: tuple[str, ...], voices: Voices) -> list[Clip]:
    """The chime, then each item in each language it has and a voice speaks (Japanese first)."""
    clips = [Clip("chime", chime_key())]
    for item in items:
        for lang in langs_order:
            if lang not in item.languages:
                continue
            if not voices.can_speak(lang):
                _warn_once(lang, voices)
                continue
            text = announcement_text(item, lang)
            clips.append(Clip(lang, speech_key(lang, text, voices), text))
    return clips


def _warn_once(lang: str, voices: Voices) -> None:
    if lang not in _warned:
        _warned.add(lang)
        log.warning(
            "no voice for %s: announcements leave it out (missing: %s)",
            lang,
            "; ".join(voices.missing) or "a voice for this language",
        )


# -- making the files ---------------------------------------------------------------------------


def ensure_clip(clip: Clip, out_dir: Path, voices: Voices) -> Path | None:
    """``out_dir/<key>.wav``, made once; ``None`` (and a log line) when it cannot be spoken."""
    path = Path(out_dir) / clip.file_name
    if path.exists():
        return path
    try:
        data = chime_wav() if clip.lang == "chime" else synthesize(clip.lang, clip.text, voices)
    except (OSError, subprocess.SubprocessError, ValueError) as e:
        log.warning("speech for %s failed: %s", clip.lang, e)
        return None
    return write_atomic(path, data)


def synthesize(lang: str, text: str, voices: Voices) -> bytes:
    """WAV bytes of ``text`` spoken in ``lang``."""
    if not voices.can_speak(lang):
        raise ValueError(f"no voice for {lang}: {'; '.join(voices.missing)}")
    with tempfile.TemporaryDirectory(prefix="publisher-speech-") as tmp:
        out = Path(tmp) / "out.wav"
        if lang in JTALK_LANGS:
            src = Path(tmp) / "in.txt"
            src.write_text(text, encoding="utf-8")
            cmd = [
                str(voices.jtalk),
                "-x",
                str(voices.jtalk_dictionary),
                "-m",
                str(voices.jtalk_voice),
                "-r",
                "0.95",  # a little slower than default: a lobby, a crowd, a second language
                "-ow",
                str(out),
                str(src),
            ]
        else:
            cmd = [str(voices.espeak), "-v", ESPEAK_VOICES[lang], "-s", "150", "-w", str(out), text]
        run_bounded(cmd, SPEECH_TIMEOUT_S)
        data = out.read_bytes()
    wav_duration_s(data)  # a file that does not decode is an error here, not on a screen
    return data


def run_bounded(cmd: list[str], timeout_s: float) -> None:
    """Run ``cmd`` to the end, killed after ``timeout_s``. A timer kills it, rather than
    ``subprocess.run(timeout=)``, whose polling sleep fails under libfaketime (the tests run a
    year ahead) and would lose an announcement for a reason that is not the speech engine's."""
    with subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE) as proc:
        killer = threading.Timer(timeout_s, proc.kill)
        killer.start()
        try:
            out, err = proc.communicate()
        finally:
            killer.cancel()
    if killer.finished.is_set() and proc.returncode < 0:
        raise subprocess.TimeoutExpired(cmd, timeout_s, out, err)
    if proc.returncode != 0:
        raise subprocess.CalledProcessError(proc.returncode, cmd, out, err)


def wav_duration_s(data: bytes) -> float:
    with wave.open(io.BytesIO(data)) as w:
        frames, rate = w.getnframes(), w.getframerate()
    if frames == 0:
        raise ValueError("the speech engine wrote an empty file")
    return frames / rate


def chime_wav() -> bytes:
    """Four soft rising notes, each fading out: an attention chime without a harsh edge."""
    frames = bytearray()
    per_note = int(CHIME_NOTE_S * CHIME_RATE)
    tail = int(0.8 * CHIME_RATE)
    total = per_note * len(CHIME_NOTES_HZ) + tail
    samples = [0.0] * total
    for n, hz in enumerate(CHIME_NOTES_HZ):
        start = n * per_note
        length = per_note + tail if n == len(CHIME_NOTES_HZ) - 1 else per_note * 2
        for i in range(min(length, total - start)):
            t = i / CHIME_RATE
            attack = min(1.0, i / (0.01 * CHIME_RATE))
            env = attack * math.exp(-3.2 * t)
            samples[start + i] += (
                0.28
                * env
                * (math.sin(2 * math.pi * hz * t) + 0.25 * math.sin(4 * math.pi * hz * t))
            )
    for s in samples:
        frames += struct.pack("<h", int(max(-1.0, min(1.0, s)) * 32767))
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(CHIME_RATE)
        w.writeframes(bytes(frames))
    return buf.getvalue()
