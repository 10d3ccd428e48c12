"""Voice-over: voice loading, synthesis and fitting speech into the video."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from knightvision.render import load_voice
from knightvision.render.speech import (
    FASTEST_WPM,
    MAX_LENGTH_SCALE,
    MIN_LENGTH_SCALE,
    SCENE_PAUSE,
    SENTENCE_PAUSE,
    SLOWEST_WPM,
    SPEECH_GAP,
    SPEECH_LEAD,
    SPEECH_TAIL,
    layout_clips,
    paced_length_scale,
    repaced_length_scale,
    silent_track,
    speakable_prefix,
    synthesize_track,
)
from knightvision.render.storyboard import cut_before_speech, plan_scenes
from tests.fixtures.render_prompts import LONG_PROMPT, README_PROMPT


def rms(samples: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(samples)))) if len(samples) else 0.0


def test_voice_is_cached(voice):
    assert load_voice() is voice
    assert load_voice(voice.model_path) is voice


def test_missing_model_is_an_error_not_a_download(tmp_path: Path):
    with pytest.raises(FileNotFoundError):
        load_voice(tmp_path / "nope.onnx")


def test_synthesize_gives_audible_speech(voice):
    audio = voice.synthesize("Hello there, welcome to the show.")
    assert audio.dtype == np.float32
    assert 0.8 < len(audio) / voice.sample_rate < 4.0
    assert rms(audio) > 0.05


def test_layout_keeps_clips_with_their_scenes_when_they_fit():
    starts = layout_clips([0.0, 3.0, 6.0], [1.0, 1.0, 1.0], 10.0)
    assert starts == pytest.approx([SPEECH_LEAD, 3.0 + SPEECH_LEAD, 6.0 + SPEECH_LEAD])


def test_layout_pulls_clips_earlier_to_end_before_the_tail():
    starts = layout_clips([0.0, 2.0, 4.0], [2.5, 2.5, 2.5], 8.0)
    ends = [s + 2.5 for s in starts]
    assert ends[-1] <= 8.0 - SPEECH_TAIL + 1e-9
    assert all(b >= a + SPEECH_GAP - 1e-9 for a, b in zip(ends, starts[1:], strict=False))
    assert starts[0] >= 0


def test_speakable_prefix_cuts_at_a_word():
    text = "alpha beta gamma delta " * 50
    prefix = speakable_prefix(text, 1.0)
    assert text.startswith(prefix) and len(prefix) < len(text)
    assert not prefix.endswith(" ") and text[len(prefix)] == " "


def test_track_is_exact_length_and_aligned_to_scenes(voice):
    scenes = plan_scenes("Fresh coffee every morning. Delivered to your door.", 6, 30)
    track = synthesize_track(voice, scenes, 6)
    assert track.has_voice
    assert len(track.samples) == 6 * track.sample_rate
    rate = track.sample_rate
    second = scenes[1].start
    # Speech starts shortly after each scene starts.
    assert rms(track.samples[: int(0.5 * rate)]) > 0.01
    assert rms(track.samples[int(second * rate) : int((second + 0.6) * rate)]) > 0.01


def test_speech_longer_than_video_is_sped_up_and_cut(voice):
    prompt = "This sentence is far too long to be spoken in the time we have, it keeps going. " * 4
    scenes = plan_scenes(prompt, 3, 30)
    track = synthesize_track(voice, scenes, 3)
    rate = track.sample_rate
    assert len(track.samples) == 3 * rate
    assert track.has_voice
    tail = track.samples[-int(SPEECH_TAIL / 2 * rate) :]
    assert np.all(tail == 0)  # never runs into the very end


def test_no_speakable_text_gives_silence(voice):
    track = synthesize_track(voice, plan_scenes("🚀 🔥 ...", 2, 30), 2)
    assert not track.has_voice
    assert len(track.samples) == 2 * track.sample_rate
    assert not track.samples.any()
    assert len(silent_track(1.5).samples) == round(1.5 * silent_track(1.5).sample_rate)


def test_a_short_prompt_is_spoken_at_an_ad_pace_and_not_stretched(voice):
    """Seven words in ten seconds: spoken at 130-170 words a minute, then nothing until the end
    card says its two words ("Learn more") in its own scene."""
    scenes = plan_scenes(README_PROMPT, 10, 30)
    track = synthesize_track(voice, scenes, 10)
    assert track.words == 7 + 2
    assert SLOWEST_WPM <= track.words_per_minute <= FASTEST_WPM
    assert [span.scene for span in track.spans] == [0, len(scenes) - 1]
    assert track.spans[0].start == pytest.approx(SPEECH_LEAD, abs=0.01)
    assert track.spans[0].end < 4.0  # the music carries the time until the end card
    assert track.spans[1].start >= scenes[-1].start
    rate = track.sample_rate
    between = track.samples[round(track.spans[0].end * rate) : round(track.spans[1].start * rate)]
    assert rms(between) == 0.0


#: how far the layout may pull a sentence before its scene on a prompt that fills the video
PULLED_EARLY_AT_MOST = 0.5


def test_a_long_prompt_is_paced_scene_by_scene_with_pauses(voice):
    scenes = plan_scenes(LONG_PROMPT, 30, 30)
    track = synthesize_track(voice, scenes, 30)
    assert track.words == len(LONG_PROMPT.split())
    assert SLOWEST_WPM <= track.words_per_minute <= FASTEST_WPM
    assert [span.scene for span in track.spans] == [scene.index for scene in scenes]
    for span, scene, following in zip(track.spans, scenes, track.spans[1:], strict=False):
        # each scene's speech starts with its scene, or a little before when the sentences after
        # it need the room to end before the video does (layout_clips' backward pass)
        assert span.start >= scene.start - PULLED_EARLY_AT_MOST
        assert following.start - span.end >= SCENE_PAUSE - 0.01  # a breath between sentences
    assert track.spans[-1].end <= 30 - SPEECH_TAIL + 0.01


def test_pace_is_only_sped_up_as_far_as_the_video_needs(voice):
    """Twenty-five words in ten seconds do not fit at 150 words a minute: faster, but fitted."""
    prompt = (
        "Meet the new Aurora running shoe. Built for city miles and weekend trails. "
        "Feather-light foam keeps every step springy. Grab yours today and run further!"
    )
    track = synthesize_track(voice, plan_scenes(prompt, 10, 30), 10)
    assert FASTEST_WPM < track.words_per_minute < 240
    assert track.spans[-1].end <= 10 - SPEECH_TAIL + 0.01


def test_length_scale_estimates_stay_in_bounds():
    assert MIN_LENGTH_SCALE <= paced_length_scale(7, 43) <= MAX_LENGTH_SCALE
    assert paced_length_scale(1, 200) == MIN_LENGTH_SCALE
    assert paced_length_scale(50, 60) == MAX_LENGTH_SCALE
    # Spoken too fast at some scale: slower next time; too slow: faster.
    assert repaced_length_scale(1.0, 200.0) > 1.0 > repaced_length_scale(1.0, 120.0)


def _longest_silence(samples: np.ndarray, rate: int) -> float:
    """The longest run of near-silent 10 ms windows in samples, in seconds."""
    step = rate // 100
    quiet = [rms(samples[i : i + step]) < 0.003 for i in range(0, len(samples) - step + 1, step)]
    longest = run = 0
    for silent in quiet:
        run = run + 1 if silent else 0
        longest = max(longest, run)
    return longest / 100


def test_word_times_follow_the_audio_and_cuts_come_before_the_speech(voice):
    """Every written word gets piper's time for it: in order, inside its scene's speech, sounding
    from its start, and no word spans the pause between two sentences. The cuts then move so each
    scene's narration starts at least SPEECH_LEAD after its cut and is over by the next one, on a
    prompt that fills the video (where the plan alone let sentences start up to a second early)."""
    scenes = plan_scenes(LONG_PROMPT, 30, 30)
    track = synthesize_track(voice, scenes, 30)
    rate = track.sample_rate
    words = track.spoken_words
    assert [w.text for w in words] == LONG_PROMPT.split()
    assert [w.start for w in words] == sorted(w.start for w in words)
    spans = {span.scene: span for span in track.spans}
    loud_onsets = 0
    for word in words:
        span = spans[word.scene]
        assert span.start <= word.start < word.end <= span.end + 1e-6, word
        loud_onsets += (
            rms(track.samples[round(word.start * rate) : round((word.start + 0.06) * rate)]) > 0.005
        )
        within = track.samples[round(word.start * rate) : round(word.end * rate)]
        assert _longest_silence(within, rate) < 0.7 * SENTENCE_PAUSE, word
    assert loud_onsets >= 0.9 * len(words)

    cut = cut_before_speech(scenes, {span.scene: span.start for span in track.spans}, SPEECH_LEAD)
    assert [(s.text, s.role) for s in cut] == [(s.text, s.role) for s in scenes]
    assert cut[-1].end_frame == scenes[-1].end_frame
    assert any(span.start < scenes[span.scene].start + SPEECH_LEAD for span in track.spans)
    for span in track.spans:
        assert span.start - cut[span.scene].start >= SPEECH_LEAD - 1e-6
        assert span.end <= cut[span.scene].end + 0.05
