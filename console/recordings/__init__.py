"""Call recordings: the encrypted store (store.py), their rows (services.py) and the purge
after the retention period (jobs.py)."""
