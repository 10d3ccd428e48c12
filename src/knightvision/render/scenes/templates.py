"""One layout per role: what a scene shows over its background, prepared once per scene.

hook = the line itself as big kinetic words; problem = the line centred on a muted background;
product = the line at the bottom of a bright one (with the reference picture when there is
one); proof = the prompt's number counted up (stars for a rating) over the line; offer = a
pulsing badge with the prompt's discount or price; end card = the call-to-action button in the
brand colour with the URL under it, held to the last frame. Every text lies in the safe zone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import av
from PIL import Image

from ..captions import caption_block, fit_caption
from ..colour import RGB
from ..palette import INK, WHITE
from ..roles import (
    OFFER,
    URL,
    Role,
    call_to_action_label,
    call_to_action_url,
    offer_badge,
    proof_figure,
)
from ..safe_zones import safe_box
from ..storyboard import Scene
from ..word_timing import SpokenWord
from ..yuv import Overlay
from .cards import button_box, button_image, offer_badge_image
from .counter import CountUp, StarRow
from .highlight import Cue, WordHighlight, cues_for
from .kinetic import KineticText, kinetic_words
from .reference import ReferenceInset
from .sprites import PopSprite, Pulse, text_image

Box = tuple[int, int, int, int]

# Words that only join a call to action to its place or to more ("Shop now at brewly.com and …").
_CONNECTORS = frozenset(
    [
        "at",
        "on",
        "in",
        "to",
        "via",
        "from",
        "en",
        "em",
        "sur",
        "auf",
        "bei",
        "unter",
        "na",
        "no",
        "a",
        "and",
        "y",
        "e",
        "et",
        "und",
        "&",
        "",
    ]
)


class Animated(Protocol):
    box: Box

    def draw(self, frame: av.VideoFrame, tick: int) -> None: ...


@dataclass
class SceneLayers:
    """A scene's text and graphics: static overlays, then animated ones, and where text went."""

    static: list[Overlay] = field(default_factory=list)
    animated: list[Animated] = field(default_factory=list)
    text_boxes: list[Box] = field(default_factory=list)
    button: Box | None = None
    #: Where each word of the scene's caption is, in the order of its text (None: not placed on
    #: its own); empty without a caption.
    word_boxes: tuple[Box | None, ...] = ()

    def add_static(
        self, image: Image.Image, position: tuple[int, int], *, text: bool = True
    ) -> Box:
        self.static.append(Overlay.from_rgba(image, position))
        box = (position[0], position[1], position[0] + image.width, position[1] + image.height)
        if text:
            self.text_boxes.append(box)
        return box

    def add_animated(self, sprite: Animated, *, text: bool = True) -> None:
        self.animated.append(sprite)
        if text:
            self.text_boxes.append(sprite.box)

    def draw(self, frame: av.VideoFrame, tick: int) -> None:
        for overlay in self.static:
            overlay.blend_into(frame)
        for sprite in self.animated:
            sprite.draw(frame, tick)


@dataclass(frozen=True)
class _Voice:
    """What the caption needs to follow the voice: the scene's word cues and the pill colour."""

    cues: list[Cue]
    brand: RGB
    fps: int


def _caption(
    layers: SceneLayers,
    text: str,
    width: int,
    height: int,
    region: Box,
    voice: _Voice,
    *,
    middle: bool = False,
    scale: float = 1.0,
) -> Box | None:
    """The line in a caption box, at the bottom (or middle) of region; the word being said lit
    up in it."""
    caption = caption_block(text, width, height, region=region, middle=middle, scale=scale)
    if caption is None:
        return None
    layers.word_boxes = caption.word_boxes
    box = layers.add_static(caption.image, caption.position)
    if voice.cues:
        highlight = WordHighlight(caption, text.split(), voice.cues, voice.brand, voice.fps)
        layers.add_animated(highlight, text=False)
    return box


def _stroke_for(text: RGB) -> RGB:
    return INK if text == WHITE else WHITE


def build_layers(
    scene: Scene,
    text_colour: RGB,
    brand: RGB,
    width: int,
    height: int,
    reference: Path | None = None,
    name: str | None = None,
    text_box: Box | None = None,
    words: tuple[SpokenWord, ...] = (),
    hook: str = "",
) -> SceneLayers:
    """The layers of one scene for its role, inside the frame's safe zone.

    name is what the ad sells, when the prompt names it (the product scene shows it big; the end
    card's title, else the hook line is). text_box, a
    part of the safe zone, keeps the text clear of presenters standing in the scene. words are
    the scene's words as the voice says them: the hook's words pop in as they are heard, a
    caption lights up the word being said.
    """
    layers = SceneLayers()
    voice = _Voice(cues_for(words, scene.start, scene.fps), brand, scene.fps)
    safe = text_box or safe_box(width, height)
    x0, y0, x1, y1 = safe
    short = min(width, height)
    stroke = _stroke_for(text_colour)
    role = scene.role
    if not scene.text.strip() and role is not Role.END_CARD:
        return layers
    if reference is not None:  # the composer gives pictures to product scenes, else the hook
        inset = ReferenceInset(reference, width, height, scene.frame_count)
        layers.add_animated(inset, text=False)
    if role is Role.HOOK:
        popping = kinetic_words(
            scene.text,
            safe,
            round(short * 0.14),
            text_colour,
            stroke,
            centre=0.72 if reference is not None else 0.45,  # under the picture when there is one
            max_lines=3 if reference is not None else 4,
            cues=voice.cues,
        )
        if popping:
            layers.add_animated(KineticText(popping, scene.frame_count))
    elif role is Role.PROBLEM:
        _caption(layers, scene.text, width, height, safe, voice, middle=True, scale=1.15)
    elif role is Role.PRODUCT:
        room = reference is None and text_box is None  # nothing else beside the line
        if room and name and name in scene.text:  # the product's name, big
            top = (x0, y0, x1, y0 + round((y1 - y0) * 0.5))
            for sprite in kinetic_words(name, top, round(short * 0.15), text_colour, stroke):
                layers.add_animated(sprite)
            _caption(layers, scene.text, width, height, safe, voice)
        elif room:  # the line alone: big, in the middle, not under an empty frame
            _caption(layers, scene.text, width, height, safe, voice, middle=True, scale=1.2)
        else:
            _caption(layers, scene.text, width, height, safe, voice)
    elif role is Role.PROOF:
        _proof(layers, scene, text_colour, stroke, width, height, safe, voice)
    elif role is Role.OFFER:
        badge_text = offer_badge(scene.text)
        if badge_text is None:
            keyword = OFFER.search(scene.text)
            badge_text = keyword.group(0).upper() if keyword else None
        if badge_text is not None:
            diameter = round(min((x1 - x0) * 0.62, (y1 - y0) * 0.5))
            centre = ((x0 + x1) / 2, y0 + (y1 - y0) * 0.36)
            badge = offer_badge_image(badge_text, diameter, brand)
            layers.add_animated(Pulse(badge, centre, start_tick=2))
        _caption(layers, scene.text, width, height, safe, voice)
    else:
        _end_card(layers, scene, text_colour, stroke, brand, width, height, safe, name, hook)
    return layers


def _proof(
    layers: SceneLayers,
    scene: Scene,
    text_colour: RGB,
    stroke: RGB,
    width: int,
    height: int,
    safe: Box,
    voice: _Voice,
) -> None:
    x0, y0, x1, y1 = safe
    figure = proof_figure(scene.text)
    if figure is None:  # proof in words only ("Clinically tested"): the line, big and centred
        _caption(layers, scene.text, width, height, safe, voice, middle=True, scale=1.2)
        return
    short = min(width, height)
    centre = ((x0 + x1) / 2, y0 + (y1 - y0) * 0.26)
    counter = CountUp(
        figure,
        round(short * 0.2),
        text_colour,
        stroke,
        centre,
        count_frames=min(round(scene.fps * 1.2), max(1, scene.frame_count * 2 // 3)),
    )
    layers.add_animated(counter)
    if figure.stars:
        side = round(min((x1 - x0) / 6.2, short * 0.09))
        stars_y = counter.box[3] + side * 0.9
        layers.add_animated(StarRow(counter, side, ((x0 + x1) / 2, stars_y)), text=False)
    _caption(layers, scene.text, width, height, safe, voice)


def _end_card(
    layers: SceneLayers,
    scene: Scene,
    text_colour: RGB,
    stroke: RGB,
    brand: RGB,
    width: int,
    height: int,
    safe: Box,
    name: str | None,
    hook: str,
) -> None:
    """The upper half, the button, the URL under it. Up top: the product's or brand's name with
    what the call to action offers besides its button under it ("… and get free shipping");
    without a name, the call to action's whole sentence when it offers more than the button
    says, else the hook line: never a bare button under an empty half frame."""
    x0, y0, x1, y1 = safe
    short = min(width, height)
    label = call_to_action_label(scene.text, scene.language)
    url = call_to_action_url(scene.text)
    centre_x = (x0 + x1) / 2
    top = y0 + round((y1 - y0) * 0.45)  # the upper part: title and offer
    offer = offer_clause(scene.text, label)
    if not name and offer:
        offer = " ".join(URL.sub(" ", scene.text).split()).strip(" :-–—,")
    title = name or (None if offer else hook or None)
    split = y0 + round((y1 - y0) * (0.27 if offer else 0.45))
    if title:
        long_title = len(title.split()) > 3
        headline = kinetic_words(
            title,
            (x0, y0, x1, split),
            round(short * (0.09 if long_title else 0.13)),
            text_colour,
            stroke,
            max_lines=3 if long_title else 2,
            centre=0.55,
        )
        for sprite in headline:
            layers.add_animated(sprite)
    if offer:
        region = (x0, split if title else y0, x1, top)
        caption = caption_block(offer, width, height, region=region, middle=True, scale=0.95)
        if caption is not None:
            layers.add_static(caption.image, caption.position)
    button = button_image(label, round(short * 0.075), x1 - x0, brand)
    centre = (centre_x, y0 + (y1 - y0) * 0.62)
    sprite = PopSprite(button, centre, start_tick=4)
    layers.add_animated(sprite)
    layers.button = button_box(button, centre)
    if url is not None:
        size, lines = fit_caption(url, round(short * 0.05), x1 - x0, 1)
        link = text_image(lines, size, text_colour, stroke=stroke)
        link_top = layers.button[3] + round(short * 0.03)
        layers.add_static(link, (round(centre_x - link.width / 2), link_top))


def offer_clause(text: str, label: str) -> str | None:
    """What the call to action says besides its button and address ("Shop now at brewly.com and
    get free shipping" -> "Get free shipping"), or None when that is only joining words."""
    rest = URL.sub(" ", text).replace(label, " ", 1)
    words = rest.split()
    while words and _bare(words[0]) in _CONNECTORS:
        words.pop(0)
    while words and _bare(words[-1]) in _CONNECTORS:
        words.pop()
    if len([w for w in words if _bare(w) not in _CONNECTORS]) < 2:
        return None
    clause = " ".join(words).strip(" :-–—,;")
    return clause[:1].upper() + clause[1:]


def _bare(word: str) -> str:
    return word.strip(".,;:!?¡¿—–-\"'’").casefold()
