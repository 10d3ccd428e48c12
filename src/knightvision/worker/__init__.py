"""The worker runner: claims jobs and runs their pipelines, in-process or as
`knightvision worker`."""
