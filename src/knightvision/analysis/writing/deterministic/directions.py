"""Camera directions for each beat of the UGC script, taken from how the source ad was shot.

A creator re-shooting an ad keeps what worked in it: a face to camera where the ad used a face,
product close-ups and captions where it let the product and text carry it, its cutting pace, and
its way of asking (said to camera, a button on screen, an end card held to the last frame).
"""

from __future__ import annotations

from dataclasses import dataclass

from knightvision.analysis.writing.deterministic.benchmarks import HOOK_WINDOW_S
from knightvision.analysis.writing.deterministic.facts import (
    as_number,
    cta_channels,
    cta_held_to_end,
    measured_cta,
    on_screen_texts,
)
from knightvision.analysis.writing.document import ReportInputs

FACE_SHARE_FOR_PRESENTER = 0.25  # below this the ad is carried by product shots and text
FAST_SHOTS_S = 2.5  # average shot length under which the ad counts as fast-cut


@dataclass(frozen=True)
class ShotStyle:
    """How the source ad was shot, as far as it was measured."""

    presenter: bool  # a face on screen for a good share of the ad
    face_in_hook: bool
    captions: bool  # on-screen text carried part of the message
    shot_s: float | None  # average shot length
    cta_said: bool
    cta_shown: bool
    cta_to_the_end: bool  # the shown CTA stays until the last frame


def shot_style(inputs: ReportInputs) -> ShotStyle:
    metrics = inputs.metrics
    share = as_number(metrics, "face_frame_share") or 0.0
    first_face = as_number(metrics, "first_face_s")
    cta = measured_cta(inputs)
    said, shown = cta_channels(cta) if cta else (False, False)
    return ShotStyle(
        presenter=share >= FACE_SHARE_FOR_PRESENTER,
        face_in_hook=first_face is not None and first_face < HOOK_WINDOW_S,
        captions=bool(on_screen_texts(inputs)),
        shot_s=as_number(metrics, "average_shot_length_s"),
        cta_said=said,
        cta_shown=shown,
        cta_to_the_end=cta is not None and cta_held_to_end(inputs, cta),
    )


def direction(beat: str, style: ShotStyle, *, has_lines: bool, has_cta: bool) -> str:
    """One beat's direction: what the camera shows, never what is said."""
    if beat == "hook":
        if style.face_in_hook or style.presenter:
            return "Face to camera from the first frame, as the original opens on a face."
        return "Open on a close-up of the product with the hook as a big caption, as the original."
    if beat == "cta":
        return _cta_direction(style, has_lines=has_lines, has_cta=has_cta)
    subject = {
        "problem": "the everyday problem",
        "solution": "the product in use",
        "proof": "the result",
    }[beat]
    if style.presenter:
        shot = f"The creator talks to camera, then shows {subject}"
    else:
        shot = f"Close-ups of {subject}, the creator's voice over them"
    if style.shot_s is not None and style.shot_s < FAST_SHOTS_S:
        shot += f"; cut about every {max(1.0, round(style.shot_s * 2) / 2):g} s like the original"
    if style.captions:
        shot += "; key words as captions"
    return shot + "."


def _cta_direction(style: ShotStyle, *, has_lines: bool, has_cta: bool) -> str:
    if not has_cta:
        opening = "The creator closes on the ad's offer" if has_lines else "End on the product"
        return opening + "; the original ad has no call to action to reuse."
    button = "as a button, held to the last frame" if style.cta_to_the_end else "as a button"
    if style.cta_shown and style.cta_said:
        return f"The creator says the call to action to camera while it shows on screen {button}."
    if style.cta_shown:
        return f"The call to action on screen {button}; the creator points at it."
    return "The creator says the call to action to camera."
