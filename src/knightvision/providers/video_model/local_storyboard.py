"""``local-storyboard``: our own offline renderer, always available (D15)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING, Any

from knightvision.adapter_names import AdapterName
from knightvision.providers.video_model.port import GenerationRun, GenerationSpec

if TYPE_CHECKING:  # the renderer itself is imported only where videos are rendered
    from knightvision.render import RenderReport


class LocalStoryboardAdapter:
    name: str = AdapterName.LOCAL_STORYBOARD

    def __init__(self, voice_model: Path | None = None) -> None:
        self._voice_model = voice_model

    def available(self) -> bool:
        return True

    async def generate(
        self, spec: GenerationSpec, output: Path, run: GenerationRun
    ) -> dict[str, Any]:
        report = await asyncio.to_thread(self._render, spec, output, run)
        provenance: dict[str, Any] = {"renderer": AdapterName.LOCAL_STORYBOARD.value}
        notes = {
            "undrawable_characters": list(report.undrawable_characters),
            "unspoken_text": list(report.unspoken_text),
        }
        if any(notes.values()):  # what the renderer could not do as asked
            provenance["render_notes"] = {name: value for name, value in notes.items() if value}
        return provenance

    def _render(self, spec: GenerationSpec, output: Path, run: GenerationRun) -> RenderReport:
        """Render to output; the renderer's report."""
        # Imported here so the API process never pays for the renderer's imports.
        from knightvision.render import RenderSpec, load_voice, render_storyboard

        report = render_storyboard(
            RenderSpec(
                prompt=spec.prompt,
                duration=spec.duration,
                width=spec.width,
                height=spec.height,
                reference_images=spec.reference_images,
                presenters=spec.presenters,
                brand_color=spec.brand_color,
                style=spec.style,
            ),
            output,
            voice=load_voice(self._voice_model),
            progress=run.progress,
        )
        return report
