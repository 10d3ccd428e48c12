"""Measured facts about an ad (D18 ``metrics``): what the media is, not what a model thinks of it.

:func:`measure` combines the frames stage (cuts, sampled frame times), the transcript, and its own
passes over the file, one module each:

* ``frames``: the sampled frames, decoded again once and scaled for OCR;
* ``text``: on-screen text, read on those frames and followed across them as timed spans;
* ``faces``: the share of sampled frames with a face;
* ``audio``: integrated loudness and the silence ratio;
* ``speech``: when speech starts, how many words, how fast;
* ``cta``: the call to action, in the transcript and the on-screen text, and where it is placed
  (spoken, button, URL, end card);
* ``offer``: brand, product, what is sold, the offer, its proof and web address, each quoted;
* ``language``: the spoken and the on-screen language side by side.

``engines`` loads the OCR, face and language engines once per process; ``warm_up`` loads them
ahead of use.
"""

from knightvision.analysis.metrics.audio import audio_levels, decode_audio
from knightvision.analysis.metrics.cta import call_to_action, find_call_to_action
from knightvision.analysis.metrics.engines import warm_up
from knightvision.analysis.metrics.language import language_facts, language_phrase
from knightvision.analysis.metrics.measure import measure
from knightvision.analysis.metrics.offer import offer_facts

__all__ = [
    "audio_levels",
    "call_to_action",
    "decode_audio",
    "find_call_to_action",
    "language_facts",
    "language_phrase",
    "measure",
    "offer_facts",
    "warm_up",
]
