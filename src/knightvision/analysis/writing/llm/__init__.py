"""The LLM writer: the prose parts rewritten by a configured language model.

Read top-down: ``writer`` (the :class:`LLMWriter` and its part-by-part fallback), ``prompt``
(what the model is given) and ``reply`` (how its answer is read and checked).
"""

from knightvision.analysis.writing.llm.reply import parse_reply
from knightvision.analysis.writing.llm.writer import LLMWriter

__all__ = ["LLMWriter", "parse_reply"]
