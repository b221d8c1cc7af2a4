"""Automatic call quality analysis: the versioned phrase rules (defaults.py, services.py),
the scheduled analysis of every call's recordings with the `qa` engine (jobs.py), the
results stored per call and the progress (services.py, views.py). See docs/quality.md."""
