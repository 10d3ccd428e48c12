"""The call to action: phrases matched in the confident transcript (timed by its words) and in the
on-screen text spans (timed by the span start), in English, Spanish, Portuguese, French and German
(compared without case or accents, so OCR and ASR that drop an accent still match).

Strong phrases ("shop now", "sign up", "use code X", "pide el tuyo", "jetzt kaufen", …) win over
weak single words ("order", "download", …); within a class the earliest match in the last third of
the video is chosen (that is where ads put their ask), else the earliest.

:func:`call_to_action` adds where the ask is placed: short on-screen spans that are a CTA phrase, a
web address or an offer are buttons, URLs or, shown late and held to the last frame, an end card;
an ad whose only ask is such a span (a URL alone on an end card, a "-30% at example.com" button)
has that as its call to action.
"""

from __future__ import annotations

import re
from typing import Any

from knightvision.analysis.metrics.offer import HANDLE, fold, offer_in, urls_in
from knightvision.analysis.metrics.text import TOKEN
from knightvision.providers.transcription.port import Transcript

CTA_STRONG: tuple[str, ...] = (
    "shop now", "buy now", "order now", "order today", "order yours", "get yours", "grab yours",
    "get it now", "get it today", "try it free", "try it for free", "try for free", "try it now",
    "start your free trial", "free trial", "sign up", "signup", "join now", "join today",
    "subscribe", "download now", "download the app", "download today", "get the app", "install now",
    "install the app", "link in bio", "link in my bio", "click the link", "tap the link",
    "swipe up", "learn more", "book now", "book today", "apply now", "claim your", "shop the",
    "visit our website", "use code", "use my code", "use promo code", "promo code", "get offer",
    "get the offer", "claim offer", "claim your offer",
)  # fmt: skip
CTA_STRONG += (
    # Spanish
    "compra ahora", "compra ya", "compra hoy", "comprar ya", "comprar ahora", "comprar hoy",
    "compralo ahora", "compralo ya", "compralo hoy",
    "compra el tuyo", "pide el tuyo", "pide la tuya", "pide los tuyos", "pide ya", "pide hoy",
    "pide ahora", "pidelo hoy", "pidelo ya", "pidelo ahora", "pidela hoy", "pidela ya",
    "haz tu pedido", "ordena ahora", "ordena hoy", "consigue el tuyo", "consigue la tuya",
    "consiguelo", "mas informacion", "descarga la app", "descarga ahora", "descargala",
    "registrate", "suscribete", "reserva ahora", "prueba gratis", "pruebalo gratis",
    "usa el codigo", "usa mi codigo", "enlace en la bio", "link en la bio", "visita nuestra web",
    "mas info", "descubre mas", "reserva ya", "obten el tuyo", "obten la tuya", "obtenlo ya",
    "aprovecha la oferta", "aprovecha ya", "solicitalo", "descarga gratis",
    "pidelo", "pidela", "compralo", "comprala",  # after the longer phrases: those are preferred
    # Portuguese
    "compre agora", "compre ja", "compre hoje", "peca ja", "peca agora", "peca hoje", "peca o seu",
    "peca a sua", "garanta o seu", "garanta a sua", "garanta ja", "saiba mais", "baixe o app",
    "baixe agora", "baixe ja", "inscreva se", "cadastre se", "assine ja", "assine agora",
    "experimente gratis", "use o cupom", "use o codigo", "link na bio", "clique no link",
    "comprar agora", "compre online", "aproveite agora", "aproveite ja", "aproveite a oferta",
    "baixe gratis", "confira agora",
    # French
    "achetez maintenant", "achetez le", "achetez la", "commandez", "commander maintenant",
    "en savoir plus", "telechargez", "inscrivez vous", "abonnez vous", "essayez gratuitement",
    "reservez maintenant", "obtenez le votre", "obtenez la votre", "utilisez le code",
    "lien en bio", "cliquez sur le lien", "profitez en", "acheter maintenant", "je commande",
    "j en profite", "je m inscris", "je decouvre", "decouvrir l offre",
    "telecharger l application",
    # German
    "jetzt kaufen", "jetzt bestellen", "jetzt shoppen", "jetzt entdecken", "jetzt testen",
    "jetzt sichern", "jetzt herunterladen", "jetzt registrieren", "jetzt anmelden",
    "jetzt abonnieren", "mehr erfahren", "hier bestellen", "bestelle jetzt", "bestellen sie jetzt",
    "kaufe jetzt", "kostenlos testen", "hol dir", "hole dir", "sichere dir", "sichern sie sich",
    "link in der bio", "mit dem code", "gutscheincode", "jetzt einkaufen", "jetzt zugreifen",
    "zum angebot", "zum shop", "jetzt downloaden", "jetzt installieren", "jetzt ausprobieren",
    "jetzt probieren", "bestell jetzt", "hier kaufen", "gleich bestellen", "angebot sichern",
    "kostenlos registrieren",
)  # fmt: skip
CTA_WEAK: tuple[str, ...] = (
    "order",
    "download",
    "install",
    "buy",
    "shop",
    "visit",
    "subscribe",
    "join",
)
CTA_WEAK += (
    # not words that also name things ("Gran Reserva", "Daten sichern"): their phrases are strong
    "compra", "comprar", "pide", "pedir", "descarga", "visita", "descubre", "ver mas", "aprovecha",
    "compre", "peca", "baixe", "visite", "descubra", "acesse", "aproveite", "confira",
    "achetez", "acheter", "commander", "decouvrez", "decouvrir", "profitez", "reservez",
    "telecharger",
    "kaufen", "bestellen", "entdecke", "entdecken", "besuche", "herunterladen", "registrieren",
)  # fmt: skip
#: an on-screen span is a button or end card when it is this short (a caption is longer)
CTA_MAX_WORDS = 8
#: a span ending this close to the end of the video is on screen to the last frame (span edges
#: are known to within half the frame-sampling interval)
LAST_FRAME_TOLERANCE_S = 0.6
#: an end card starts in the second half of the ad and stays to the last frame
END_CARD_FROM = 0.5
_CODE = re.compile(
    r"\b(?:use|with|enter)\s+(?:the\s+|my\s+|promo\s+|discount\s+)?code[\s:]+([A-Za-z0-9]{3,20})\b",
    re.IGNORECASE,
)

_SENTENCE_END = re.compile(r"[.!?…]['\")\]]*$")
CTA_WORDS_BEFORE = 3
CTA_WORDS_AFTER = 10


def _find_in_stream(words: list[str], phrases: tuple[str, ...]) -> list[tuple[int, int, str]]:
    """``(first word, last word, phrase)`` for each phrase found in a stream of raw words."""
    tokens: list[tuple[str, int]] = [
        (token, i) for i, word in enumerate(words) for token in TOKEN.findall(fold(word))
    ]
    plain = [t for t, _ in tokens]
    found = []
    for phrase in phrases:
        target = TOKEN.findall(phrase)
        for i in range(len(plain) - len(target) + 1):
            if plain[i : i + len(target)] == target:
                found.append((tokens[i][1], tokens[i + len(target) - 1][1], phrase))
    return found


def _window(words: list[str], first: int, last: int) -> str:
    """The words around a match: back to the sentence start (at most 3 words), on to its end
    (at most 10 words after the match starts)."""
    lo = first
    while lo > 0 and first - lo < CTA_WORDS_BEFORE and not _SENTENCE_END.search(words[lo - 1]):
        lo -= 1
    hi = last
    while (
        hi + 1 < len(words) and hi - first < CTA_WORDS_AFTER and not _SENTENCE_END.search(words[hi])
    ):
        hi += 1
    return " ".join(words[lo : hi + 1])


def find_call_to_action(
    transcript: Transcript, on_screen_text: list[dict[str, Any]], duration: float
) -> dict[str, Any] | None:
    """The ad's call to action ``{text, phrase, time_s, source, sources, strength}`` or None.

    Searched in the confident transcript (timed by its words; low-confidence segments and
    untranscribable speech are ignored) and in the on-screen text spans (timed by their start).
    """
    streams: list[tuple[str, list[str], list[float | None]]] = []  # (source, words, times)
    if transcript.transcribable:
        doubtful = [s for s in transcript.segments if s.get("low_confidence")]
        if transcript.words:
            kept = [
                w
                for w in transcript.words
                if not any(
                    s["start"] - 0.05 <= float(w["start"]) <= s["end"] + 0.05 for s in doubtful
                )
            ]
            streams.append(
                ("speech", [str(w["word"]) for w in kept], [float(w["start"]) for w in kept])
            )
        elif transcript.segments:
            for segment in transcript.segments:
                if not segment.get("low_confidence"):
                    words = str(segment["text"]).split()
                    streams.append(("speech", words, [float(segment["start"])] * len(words)))
        elif transcript.text:  # engines without timestamps
            words = transcript.text.split()
            streams.append(("speech", words, [None] * len(words)))
    for span in on_screen_text:
        words = str(span["text"]).split()
        streams.append(("overlay", words, [float(span["start_s"])] * len(words)))

    candidates: list[dict[str, Any]] = []
    for source, words, times in streams:
        for strength, phrases in ((0, CTA_STRONG), (1, CTA_WEAK)):
            for first, last, phrase in _find_in_stream(words, phrases):
                text = _window(words, first, last)
                code = _CODE.search(text)
                if phrase in ("use code", "use my code", "use promo code", "promo code") and code:
                    phrase = f"use code {code.group(1)}"
                candidates.append(
                    {
                        "strength": strength,
                        "time_s": times[first],
                        "source": source,
                        "phrase": phrase,
                        "text": text,
                    }
                )
    if not candidates:
        return None
    best_strength = min(c["strength"] for c in candidates)
    pool = [c for c in candidates if c["strength"] == best_strength]
    late = [c for c in pool if c["time_s"] is not None and c["time_s"] >= duration * 2 / 3]
    timed = [c for c in pool if c["time_s"] is not None]
    choice = _first_placed(late or timed) if (late or timed) else pool[0]
    return {
        "text": choice["text"][:200],
        "phrase": choice["phrase"],
        "time_s": None if choice["time_s"] is None else round(choice["time_s"], 3),
        "source": choice["source"],
        # every source with a call to action of the same strength (said and/or shown)
        "sources": sorted({c["source"] for c in pool}, key=["speech", "overlay"].index),
        "strength": "strong" if choice["strength"] == 0 else "weak",
    }


#: A spoken and a shown ask this close together are one moment: the voice starts a word a beat
#: before or after the card appears (measured: "Order" at 8.706 s, its end card at 8.749 s).
SIMULTANEOUS_S = 0.3


def _first_placed(candidates: list[dict[str, Any]]) -> dict[str, Any]:
    """The earliest ask; when the screen shows one at the same moment, the shown one, which says
    how it is placed (button, web address, end card)."""
    first = min(candidates, key=lambda c: c["time_s"])
    together = [c for c in candidates if c["time_s"] - first["time_s"] <= SIMULTANEOUS_S]
    shown = [c for c in together if c["source"] == "overlay"]
    return min(shown, key=lambda c: c["time_s"]) if shown else first


def on_screen_placements(
    on_screen_text: list[dict[str, Any]], duration: float
) -> list[dict[str, Any]]:
    """Short on-screen spans that ask for action: a CTA phrase, a web address or handle, or an
    offer. ``kind`` is ``end_card`` (starts in the second half and stays to the last frame),
    ``button`` (a phrase or an offer) or ``url`` (an address alone); each quotes its span."""
    placements = []
    for span in on_screen_text:
        text = str(span["text"])
        words = text.split()
        if not words or len(words) > CTA_MAX_WORDS:
            continue
        phrases = [p for _, _, p in _find_in_stream(words, CTA_STRONG)]
        weak = [p for _, _, p in _find_in_stream(words, CTA_WEAK)]
        links = [*urls_in(text), *(m.group(0) for m in HANDLE.finditer(text))]
        offers = offer_in(text)
        if not (phrases or weak or links or offers):
            continue
        start, end = float(span["start_s"]), float(span["end_s"])
        to_last_frame = duration - end <= LAST_FRAME_TOLERANCE_S
        if to_last_frame and start >= duration * END_CARD_FROM:
            kind = "end_card"
        elif phrases or weak or offers:
            kind = "button"
        else:
            kind = "url"
        placements.append(
            {
                "kind": kind,
                "text": text[:200],
                "phrase": (phrases or weak or links or offers)[0],
                "url": links[0] if links else None,
                "offer": offers[0] if offers else None,
                "start_s": round(start, 3),
                "end_s": round(end, 3),
                "to_last_frame": to_last_frame,
                "source": "overlay",
            }
        )
    return placements


def _from_placement(placement: dict[str, Any]) -> dict[str, Any]:
    """A call to action read from an on-screen placement alone (no phrase found elsewhere)."""
    return {
        "text": placement["text"],
        "phrase": placement["phrase"],
        "time_s": placement["start_s"],
        "source": "overlay",
        "sources": ["overlay"],
        "strength": "strong",
    }


def call_to_action(
    transcript: Transcript, on_screen_text: list[dict[str, Any]], duration: float
) -> dict[str, Any] | None:
    """The call to action (:func:`find_call_to_action`'s fields) with where it is placed:

    ``kind`` (``spoken``, ``button``, ``url``, ``end_card``, or ``caption`` for a longer on-screen
    line), ``to_last_frame`` (the chosen ask is on screen to the last frame), ``on_screen`` (any
    placement is), and ``placements``: the spoken ask and every on-screen one, in time order.
    When no phrase is found, or only a weak one, an end card, URL or button is the ask.
    """
    found = find_call_to_action(transcript, on_screen_text, duration)
    placements = on_screen_placements(on_screen_text, duration)
    if placements and (found is None or found["strength"] == "weak"):
        rank = {"end_card": 0, "url": 1, "button": 2}
        late = [p for p in placements if p["start_s"] >= duration * 2 / 3]
        best = min(late or placements, key=lambda p: (rank[p["kind"]], p["start_s"]))
        if found is None or best["kind"] != "button" or best["url"] or best["offer"]:
            found = _from_placement(best)
    if found is None:
        return None
    spoken = find_call_to_action(transcript, [], duration)
    if spoken is not None:
        placements.append(
            {
                "kind": "spoken",
                "text": spoken["text"],
                "phrase": spoken["phrase"],
                "url": None,
                "offer": None,
                "start_s": spoken["time_s"],
                "end_s": None,
                "to_last_frame": False,
                "source": "speech",
            }
        )
    placements.sort(key=lambda p: (p["start_s"] is None, p["start_s"] or 0.0))
    chosen = next(
        (
            p
            for p in placements
            if p["source"] == found["source"]
            and p["start_s"] == found["time_s"]
            and (
                p["source"] == "speech"
                or p["text"] == found["text"]
                or p["phrase"] in found["text"]
            )
        ),
        None,
    )
    return {
        **found,
        "kind": chosen["kind"]
        if chosen
        else ("spoken" if found["source"] == "speech" else "caption"),
        "to_last_frame": bool(chosen and chosen["to_last_frame"]),
        "on_screen": any(p["source"] == "overlay" for p in placements),
        "placements": placements,
    }
