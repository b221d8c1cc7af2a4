"""Telephony layer of Hotline: the pjsua2 SIP engine and the worker around it.

Only ``telephony.engine`` imports ``pjsua2``. The engine's events live in
``telephony.events``, which does not, so code that only handles events (and the web and
scheduler roles, which never import this package) does not load the native library.
"""
