"""Rostering engine: shift templates, hard rules, CP-SAT solver and coverage checks (pure)."""
