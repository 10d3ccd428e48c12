"""Ad analysis (D18): measured facts about an ad, then the report written from them.

Read top-down: ``pipeline`` runs a job's stages; ``metrics`` measures the media (``measure``),
``breakdown`` lays the ad out as a timed hook, scenes and call to action, and ``report`` has the
``writing`` package turn those inputs into the summary, analysis and UGC script.
"""
