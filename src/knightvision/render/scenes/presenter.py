"""Where characters stand in a storyboard scene, and where its text goes then (D16).

The hook shows the presenter large (full frame, head in the upper half), the problem and the
product half frame (the figure in the lower part); proof, offer and end card keep the frame for
their counter, badge and name. In a portrait or square frame the text moves above the presenter's
head, in a landscape one to the side the presenter leaves free; both stay in the safe zone.
"""

from __future__ import annotations

from ..roles import Role

Box = tuple[int, int, int, int]

#: How much of the frame's height (portrait) or width (landscape) the figure's box takes.
PRESENTER_SIZE: dict[Role, float] = {Role.HOOK: 0.80, Role.PROBLEM: 0.60, Role.PRODUCT: 0.60}


def shows_presenter(role: Role) -> bool:
    """Whether a scene of this role has the characters on screen."""
    return role in PRESENTER_SIZE


def presenter_boxes(role: Role, width: int, height: int, count: int) -> list[Box]:
    """The box of each of count presenters in a scene of this role; none for a role without."""
    share = PRESENTER_SIZE.get(role)
    if share is None or count < 1:
        return []
    if height >= width:  # portrait or square: the bottom of the frame, side by side
        x0, y0, x1, y1 = 0, round(height * (1 - share)), width, height
    else:  # landscape: the right-hand side, side by side
        x0, y0, x1, y1 = round(width * (1 - share * 0.7)), 0, width, height
    step = (x1 - x0) / count
    return [(round(x0 + k * step), y0, round(x0 + (k + 1) * step), y1) for k in range(count)]


def text_region(safe: Box, width: int, height: int, head_top: int, boxes: list[Box]) -> Box:
    """The part of the safe zone the scene's text may use with presenters in boxes."""
    if not boxes:
        return safe
    x0, y0, x1, y1 = safe
    if height >= width:
        return (x0, y0, x1, max(y0 + round(0.14 * height), min(y1, head_top)))
    return (x0, y0, max(x0 + round(0.3 * width), min(x1, min(box[0] for box in boxes))), y1)
