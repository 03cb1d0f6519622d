"""Web Push: waking a worker's installed app when an envelope waits and no socket is open.

The relay holds one VAPID key pair (RFC 8292, ``vapid.py``), made once and kept in a file;
its public key is what the app subscribes with. A worker device stores one subscription, the
push service's endpoint URL only (``subscriptions.py``, checked by ``endpoint.py``). When the
writer commits envelopes for a mailbox with no connection on this process, ``sender.py``
sends that device's push service an empty request with a TTL, from a background task, if
the envelope is still unacknowledged after ``push_grace_seconds``, and at most one per
device per ``push_min_interval_seconds``. The payload is empty: the push
service learns that this device was woken and when, never by whom or about what, and the
service worker shows a fixed "New message" (docs/threat-model.md).
"""
