"""A transcript that agrees with the screen: heard words corrected toward on-screen text (D23).

Speech recognition mishears words the ad also shows ("chop now" under a "Shop now" caption).
Each on-screen text span (``metrics["on_screen_text"]``: ``start_s``, ``end_s``, ``text``) is
aligned, word by word, with the heard words spoken while it is on screen (± ``TIME_TOLERANCE_S``).
Where a short run of heard words (at most ``MAX_RUN_WORDS``) differs from the run of screen words
in the same place of the alignment and the two nearly agree (character similarity at least
``MIN_SIMILARITY``, case, spaces and punctuation ignored), the heard run takes the screen's
reading. Words that already agree are never touched, unrelated text is never substituted, and
every correction is listed with its evidence; a corrected word keeps what was heard in ``heard``.

The reconciled transcript's ``segments`` are sentences built from the words
(:func:`sentences`), so a quote is a whole sentence and a call to action never starts with the
tail of the sentence before it.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import replace
from typing import Any

from rapidfuzz.distance import Levenshtein

from knightvision.analysis.metrics.cta import call_to_action
from knightvision.analysis.metrics.offer import offer_facts
from knightvision.analysis.metrics.speech import speech_facts
from knightvision.providers.transcription.port import Transcript

__all__ = [
    "MAX_RUN_WORDS",
    "MIN_SIMILARITY",
    "SENTENCE_PAUSE_S",
    "TIME_TOLERANCE_S",
    "reconcile",
    "reconcile_metrics",
    "sentences",
    "similarity",
]

#: Character similarity (1 - edit distance / longer length) a heard run needs to take the screen's
#: reading. 0.7 lets one wrong letter in a four-letter word through (chop/shop 0.75, switch/
#: switched 0.75, "bright brew"/"Brightbrew" 1.0) and stops a wrong letter in a three-letter word
#: (now/new 0.67) and unrelated words (is/in 0.5, cold/sold... only with the screen as evidence).
MIN_SIMILARITY = 0.7
#: A run with no agreeing word beside it in the alignment must agree almost letter for letter.
MIN_SIMILARITY_ALONE = 0.9
#: On-screen spans start and end at sampled frames; speech and text of one scene drift by a
#: fraction of a second (captions appear with the cut, the voice a beat later).
TIME_TOLERANCE_S = 0.5
#: Never correct across more than this many words on either side.
MAX_RUN_WORDS = 3
#: A pause between words at least this long ends a sentence when the transcript has no sentence
#: punctuation (measured on piper voice-overs: 1.2 s between sentences, under 0.1 s inside one).
SENTENCE_PAUSE_S = 0.5

_SENTENCE_END = re.compile(r"[.!?…]['\")\]]*$")
_EDGE = re.compile(r"^\W+|\W+$")
_ATTACHED = frozenset(",.;:!?%)'’")


def reconcile(
    transcript: Transcript, on_screen_text: list[dict[str, Any]]
) -> tuple[Transcript, list[dict[str, Any]]]:
    """(reconciled transcript, corrections). The transcript is returned as it is when it has no
    confident word timings to align (not transcribable, or an engine without word times)."""
    if not transcript.transcribable or not transcript.words:
        return transcript, []
    words = [dict(w) for w in transcript.words]
    corrections: list[dict[str, Any]] = []
    chosen: dict[int, tuple[int, list[str], dict[str, Any]]] = {}  # first word → (end, new, fix)
    agreed: set[int] = set()  # heard words some on-screen text already agrees with
    for span in on_screen_text:
        found, agreeing = _span_corrections(words, span)
        agreed |= agreeing
        for first, last, screen, fix in found:
            # where two spans offer a correction for the same words, the closer reading wins
            overlaps = [k for k, (end, _, _) in chosen.items() if k < last and first < end]
            score = fix["evidence"]["similarity"]
            if all(score > chosen[k][2]["evidence"]["similarity"] for k in overlaps):
                for k in overlaps:
                    del chosen[k]
                chosen[first] = (last, screen, fix)
    # a word one text on screen agrees with is never rewritten toward another
    chosen = {k: v for k, v in chosen.items() if agreed.isdisjoint(range(k, v[0]))}
    out: list[dict[str, Any]] = []
    index = 0
    while index < len(words):
        if index not in chosen:
            out.append(words[index])
            index += 1
            continue
        last, screen, fix = chosen[index]
        out += _respelled(words[index:last], screen)
        corrections.append(fix)
        index = last
    built = sentences(out, transcript.segments)
    reconciled = replace(
        transcript,
        text=" ".join(s["text"] for s in built),
        segments=[{k: v for k, v in s.items() if k != "words"} for s in built],
        words=[w for s in built for w in s["words"]],
    )
    return reconciled, corrections


def reconcile_metrics(metrics: dict[str, Any], transcript: dict[str, Any]) -> dict[str, Any]:
    """Reconcile the transcript with ``metrics["on_screen_text"]`` and return it (as a dict).

    Adds to ``metrics``: ``transcript_corrections``, ``transcript_raw`` (the ASR text as heard),
    ``transcript_source`` (``asr`` or ``asr_reconciled_with_screen``) and
    ``transcript_sentences``; the speech facts, the call to action and the offer are measured
    again on the reconciled words.
    """
    raw = Transcript.from_dict(transcript)
    reconciled, corrections = reconcile(raw, list(metrics.get("on_screen_text") or []))
    metrics["transcript_raw"] = raw.text
    metrics["transcript_corrections"] = corrections
    metrics["transcript_source"] = "asr_reconciled_with_screen" if corrections else "asr"
    metrics["transcript_sentences"] = [
        {
            "start_s": s["start"],
            "end_s": s["end"],
            "text": s["text"],
            "low_confidence": s["low_confidence"],
            "boundary": s["boundary"],
        }
        for s in reconciled.segments
        if "boundary" in s
    ]
    on_screen = list(metrics.get("on_screen_text") or [])
    metrics.update(speech_facts(reconciled))
    metrics["call_to_action"] = call_to_action(reconciled, on_screen, float(metrics["duration_s"]))
    metrics["offer"] = offer_facts(reconciled, on_screen)
    return reconciled.to_dict()


def similarity(a: str, b: str) -> float:
    """1 - Levenshtein distance / the longer length, over lower-case letters and digits."""
    a, b = _plain(a), _plain(b)
    if not a or not b:
        return 0.0
    return float(Levenshtein.normalized_similarity(a, b))


def sentences(
    words: list[dict[str, Any]], segments: list[dict[str, Any]] | None = None
) -> list[dict[str, Any]]:
    """Sentences from timed words: ``{start, end, text, avg_logprob, low_confidence, boundary,
    words}``. Boundaries come from the words' own punctuation when the transcript has any
    (``boundary: "punctuation"``), else from pauses of ``SENTENCE_PAUSE_S`` (``"pause"``; the
    sentence then ends with a full stop so later readers see the boundary too). A sentence is
    low-confidence when any of its words lies in a low-confidence segment."""
    if not words:
        return []
    punctuated = any(_SENTENCE_END.search(str(w["word"])) for w in words)
    groups: list[list[dict[str, Any]]] = [[]]
    for index, word in enumerate(words):
        groups[-1].append(dict(word))
        following = words[index + 1] if index + 1 < len(words) else None
        if following is None:
            break
        if punctuated:
            ends = bool(_SENTENCE_END.search(str(word["word"])))
        else:
            ends = float(following["start"]) - float(word["end"]) >= SENTENCE_PAUSE_S
        if ends:
            groups.append([])
    built = []
    for group in groups:
        group[0]["word"] = _capitalised(str(group[0]["word"]))
        if not punctuated and not _SENTENCE_END.search(str(group[-1]["word"])):
            group[-1]["word"] = f"{group[-1]['word']}."
        start, end = float(group[0]["start"]), float(group[-1]["end"])
        around = [
            s
            for s in segments or []
            if any(s["start"] - 0.05 <= float(w["start"]) <= s["end"] + 0.05 for w in group)
        ]
        logprobs = [s["avg_logprob"] for s in around if s.get("avg_logprob") is not None]
        built.append(
            {
                "start": round(start, 3),
                "end": round(end, 3),
                "text": _joined([str(w["word"]) for w in group]),
                "avg_logprob": min(logprobs) if logprobs else None,
                "low_confidence": any(s.get("low_confidence") for s in around),
                "boundary": "punctuation" if punctuated else "pause",
                "words": group,
            }
        )
    return built


def _plain(text: str) -> str:
    return "".join(ch for ch in text.lower() if ch.isalnum())


def _span_corrections(
    words: list[dict[str, Any]], span: dict[str, Any]
) -> tuple[list[tuple[int, int, list[str], dict[str, Any]]], set[int]]:
    """For one on-screen span: the corrections it offers, each ``(first heard word, end
    (exclusive), screen words, correction)``, and the heard words that agree with it."""
    start, end = float(span["start_s"]), float(span["end_s"])
    window = [
        i
        for i, w in enumerate(words)
        if float(w["end"]) >= start - TIME_TOLERANCE_S
        and float(w["start"]) <= end + TIME_TOLERANCE_S
        and _plain(str(w["word"]))
    ]
    screen = [token for token in str(span["text"]).split() if _plain(token)]
    if not window or not screen:
        return [], set()
    heard_plain = [_plain(str(words[i]["word"])) for i in window]
    matcher = difflib.SequenceMatcher(None, heard_plain, [_plain(t) for t in screen], False)
    codes = matcher.get_opcodes()
    agreeing = {window[i] for tag, i1, i2, _, _ in codes if tag == "equal" for i in range(i1, i2)}
    found = []
    for n, (tag, i1, i2, j1, j2) in enumerate(codes):
        if tag != "replace" or i2 - i1 > MAX_RUN_WORDS or j2 - j1 > MAX_RUN_WORDS:
            continue
        if window[i2 - 1] - window[i1] != i2 - i1 - 1:  # not a contiguous run of heard words
            continue
        shown = [_EDGE.sub("", t) for t in screen[j1:j2]]
        shown = [t.lower() if t.isupper() and len(t) > 3 else t for t in shown]  # shouted captions
        i1, i2, score = _closest_run(words, window, i1, i2, "".join(shown))
        heard = " ".join(str(words[i]["word"]) for i in window[i1:i2])
        anchored = any(0 <= m < len(codes) and codes[m][0] == "equal" for m in (n - 1, n + 1))
        if score < (MIN_SIMILARITY if anchored else MIN_SIMILARITY_ALONE):
            continue
        corrected = " ".join(shown)
        if _plain(heard) == _plain(corrected) and len(shown) == i2 - i1:
            continue  # the same words, spelt with other case or punctuation: they agree
        found.append(
            (
                window[i1],
                window[i2 - 1] + 1,
                shown,
                {
                    "time_s": round(float(words[window[i1]]["start"]), 3),
                    "heard": heard,
                    "corrected": corrected,
                    "evidence": {
                        "on_screen_text": str(span["text"]),
                        "start_s": round(start, 3),
                        "end_s": round(end, 3),
                        "similarity": round(score, 3),
                    },
                },
            )
        )
    return found, agreeing


def _closest_run(
    words: list[dict[str, Any]], window: list[int], i1: int, i2: int, shown: str
) -> tuple[int, int, float]:
    """The part of the heard run ``window[i1:i2]`` closest to the screen's words, and its
    similarity. The alignment may put a neighbouring sentence's last word beside the misheard one
    ("year. Chop" against "Shop"); only the closest contiguous part is a correction."""
    best = (i1, i2, similarity(" ".join(str(words[i]["word"]) for i in window[i1:i2]), shown))
    for first in range(i1, i2):
        for last in range(first + 1, i2 + 1):
            if (first, last) == (i1, i2):
                continue
            run = " ".join(str(words[i]["word"]) for i in window[first:last])
            score = similarity(run, shown)
            if score > best[2]:
                best = (first, last, score)
    return best


def _respelled(run: list[dict[str, Any]], screen: list[str]) -> list[dict[str, Any]]:
    """The heard run as the screen spells it, over the run's time (one word to one word keeps
    each word's times; otherwise the time is shared out by length)."""
    heard = " ".join(str(w["word"]) for w in run)
    tail = _EDGE.search(str(run[-1]["word"]))
    ending = tail.group(0) if tail and tail.end() == len(str(run[-1]["word"])) else ""
    spelt = list(screen)
    if str(run[0]["word"])[:1].isupper():
        spelt[0] = _capitalised(spelt[0])
    spelt[-1] += ending
    probability = min((float(w.get("probability", 1.0)) for w in run), default=1.0)
    if len(run) == len(spelt):
        times = [(float(w["start"]), float(w["end"])) for w in run]
    else:
        start, end = float(run[0]["start"]), float(run[-1]["end"])
        total = sum(len(t) for t in spelt)
        times, at = [], start
        for token in spelt:
            step = (end - start) * len(token) / total
            times.append((at, at + step))
            at += step
    return [
        {
            "start": round(a, 3),
            "end": round(b, 3),
            "word": token,
            "probability": probability,
            "heard": heard,
        }
        for token, (a, b) in zip(spelt, times, strict=True)
    ]


def _joined(words: list[str]) -> str:
    """Words as one text: pieces Whisper splits off a word (",000", "'s", "%") join without a
    space."""
    text = ""
    for word in words:
        text += word if text and word[:1] in _ATTACHED else (" " if text else "") + word
    return text


def _capitalised(word: str) -> str:
    return word[:1].upper() + word[1:]
