"""The rules of thumb the deterministic opinions are judged against: common short-form ad
benchmarks, each stated in every opinion that uses it (the LLM writer is given them too)."""

FIRST_CUT_WITHIN_S = 2.0
HOOK_WINDOW_S = 3.0
SHOT_LENGTH_RANGE_S = (1.0, 4.0)
WPM_RANGE = (130, 170)
SPEECH_START_WITHIN_S = 1.0
LOUDNESS_TARGET_LUFS = -14.0
LOUDNESS_TOLERANCE_DB = 2.0
SILENCE_RATIO_HIGH = 0.3
CAPTIONED_SPEECH_LOW = 0.5
LENGTH_RANGE_S = (15, 30)
CTA_LATE_SHARE = 0.75
MIN_SHORT_SIDE_PX = 720
