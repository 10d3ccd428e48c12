"""Characters shown by stills in a local-storyboard video (D16): per character, only the stills
with open eyes, interleaved so scenes alternate characters."""

from __future__ import annotations

import av
import numpy as np
from PIL import Image

from knightvision.providers.storage.local import LocalStorage
from knightvision.render.presenter.live import LivePresenter
from knightvision.video.params import VideoCharacter
from knightvision.video.pipeline import _reference_images


def _still(storage: LocalStorage, key: str, prompt: str, *, blink: bool) -> str:
    """A still of the presenter drawn from prompt, stored at key."""
    presenter = LivePresenter(prompt, (0, 0, 720, 720), 30, 30)
    frame = av.VideoFrame.from_ndarray(
        np.full((720, 720, 3), (90, 120, 150), np.uint8), format="rgb24"
    ).reformat(format="yuv420p")
    presenter.draw(frame, 0, blink=blink)
    source = storage.scratch_dir() / "still.png"
    Image.fromarray(frame.to_ndarray(format="rgb24")).save(source)
    storage.put_file(key, source)
    return key


def test_each_character_shows_only_its_open_eyed_stills_in_turn(tmp_path):
    storage = LocalStorage(tmp_path)
    prompts = {
        1: "A cheerful host in a bright yellow sweater on the beach",
        2: "a bald man with a grey beard in a navy suit in a kitchen",
    }
    characters: list[VideoCharacter] = []
    for cid, prompt in prompts.items():
        keys = [
            _still(storage, f"characters/c{cid}/reference_{k}.png", prompt, blink=k != 1)
            for k in range(3)
        ]  # mid-blink, open, mid-blink
        characters.append({"id": cid, "name": f"c{cid}", "adapter": "kie", "reference_keys": keys})
    chosen = _reference_images(characters, storage)
    assert chosen == (
        storage.local_path("characters/c1/reference_1.png"),
        storage.local_path("characters/c2/reference_1.png"),
    )
