"""Hotline contact-centre console: domain, web layer, CLI and jobs."""
