"""The presenter figure: a stylised person built from a prompt, for character videos.

``presenter_look(prompt)`` (:mod:`.look`) reads the prompt's words (:mod:`.vocabulary`): clothing
style and colours ("a red hoodie", "navy suit", "in green"), hair colour and style ("curly grey
hair", "bald"), glasses, a beard, eye colour, skin tone when the prompt states it
("fair-skinned"), and a backdrop suggested by the setting ("office", "beach", "city", "kitchen",
…). Whatever the prompt leaves open comes from a hash of it, so the same prompt always gives the
same person and different prompts rarely look alike. Nothing is guessed from words that describe
people rather than looks.

``render_presenter`` (:mod:`.render`) draws that person once, as a few layers pre-converted to
YUV (:mod:`.body`; :mod:`.head` with eyes open and closed, placed by :mod:`.figure`) over a
pre-drawn, slightly blurred :mod:`.backdrop`, and per frame only moves them (:mod:`.motion`,
:mod:`.composer`): the figure rises and settles with its breath, the head sways a little, and the
eyes blink at irregular intervals. Exact WxH and duration, H.264 + a silent AAC track, like every
local render.

``LivePresenter`` (:mod:`.live`) draws the same person inside a storyboard scene, in a box of the
frame, with a mouth that opens as far as :mod:`.lipsync` reads from the voice at that frame.
"""

from .backdrop import draw_backdrop
from .body import draw_body
from .composer import PresenterComposer
from .figure import Figure
from .head import draw_head
from .live import LivePresenter
from .look import PresenterLook, presenter_look
from .motion import blink_frames, breathing_offset, head_sway
from .render import PresenterReport, render_presenter

__all__ = [
    "Figure",
    "LivePresenter",
    "PresenterComposer",
    "PresenterLook",
    "PresenterReport",
    "blink_frames",
    "breathing_offset",
    "draw_backdrop",
    "draw_body",
    "draw_head",
    "head_sway",
    "presenter_look",
    "render_presenter",
]
