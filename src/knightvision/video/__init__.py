"""Video generation: models, submission, status, the worker pipeline."""
