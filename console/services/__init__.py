"""Domain services: receive a session, never commit it; no Flask here."""
