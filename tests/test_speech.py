"""What a screen says aloud in an emergency, and what happens on a machine without voices."""

from __future__ import annotations

import io
import logging
import wave

from publisher.items import AlertInfo, Translation
from publisher.render import speech
from tests.factories import WARD, make_item

LANGS = ("ja", "ja-x-easy", "en", "zh-Hans", "zh-Hant", "ko")


def evacuation(drill: bool = False):  # type: ignore[no-untyped-def]
    return make_item(
        id=5,
        kind="alert",
        priority="emergency",
        targets=(WARD,),
        drill=drill,
        translations=(
            Translation(
                "ja", "世田谷区に避難指示", "直ちに避難してください。詳しくは区のサイトへ。"
            ),
            Translation("en", "Evacuation order", "Evacuate now. See the city's website."),
        ),
        alert=AlertInfo(warning_level=4),
    )


def test_the_announcement_says_what_it_is_the_title_and_only_the_first_sentence():
    ja = speech.announcement_text(evacuation(), "ja")
    assert ja == "世田谷区に避難指示。 直ちに避難してください。"
    en = speech.announcement_text(evacuation(), "en")
    assert en == "Evacuation order. Evacuate now."


def test_a_drill_is_announced_as_a_drill_first():
    assert speech.announcement_text(evacuation(drill=True), "ja").startswith("これは訓練です。")
    assert speech.announcement_text(evacuation(drill=True), "en").startswith("This is a drill.")


def test_without_speech_engines_only_the_chime_plays_and_the_reason_is_logged(
    monkeypatch, caplog, tmp_path
):
    monkeypatch.setattr(speech.shutil, "which", lambda name: None)
    monkeypatch.setattr(speech, "HTS_VOICE_DIRS", (str(tmp_path),))
    monkeypatch.setattr(speech, "_warned", set())
    voices = speech.find_voices()
    assert any("open-jtalk" in m for m in voices.missing)
    assert any("espeak-ng" in m for m in voices.missing)
    with caplog.at_level(logging.WARNING):
        clips = speech.announcement([evacuation()], LANGS, voices)
    assert [c.lang for c in clips] == ["chime"]
    assert "no voice for ja" in caplog.text and "apt-get install open-jtalk" in caplog.text
    chime = speech.ensure_clip(clips[0], tmp_path, voices)
    assert chime is not None
    with wave.open(io.BytesIO(chime.read_bytes())) as w:
        assert 1.5 < w.getnframes() / w.getframerate() < 5
    spoken = speech.Clip("ja", "sx", "避難指示")
    assert speech.ensure_clip(spoken, tmp_path, voices) is None  # no crash, nothing written


def test_the_same_words_in_the_same_voice_are_one_file():
    voices = speech.Voices("/usr/bin/open_jtalk", "/dic", "/v/a.htsvoice", "/usr/bin/espeak-ng")
    assert speech.speech_key("ja", "避難指示", voices) == speech.speech_key(
        "ja", "避難指示", voices
    )
    assert speech.speech_key("ja", "避難指示", voices) != speech.speech_key("ja", "避難所", voices)
    other = speech.Voices("/usr/bin/open_jtalk", "/dic", "/v/b.htsvoice", "/usr/bin/espeak-ng")
    assert speech.speech_key("ja", "避難指示", voices) != speech.speech_key("ja", "避難指示", other)


def test_a_speech_engine_that_hangs_is_stopped_and_one_that_fails_says_so() -> None:
    """The engine runs under a deadline kept by a timer (not a polling sleep), so a hung engine
    costs an announcement its clip, never the emergency."""
    import subprocess

    import pytest

    speech.run_bounded(["true"], 5)
    with pytest.raises(subprocess.TimeoutExpired):
        speech.run_bounded(["tail", "-f", "/dev/null"], 0.2)
    with pytest.raises(subprocess.CalledProcessError):
        speech.run_bounded(["false"], 5)
