"""Telephony layer of Hotline: the pjsua2 SIP engine and its helpers.

Only ``telephony.engine`` imports ``pjsua2``; import it lazily so that modules which
only need the event types do not pay for loading the native library.
"""
