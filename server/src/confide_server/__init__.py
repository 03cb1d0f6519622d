"""confide_server: the Confide relay, which forwards end-to-end encrypted envelopes it cannot read.

It keeps device public keys, opaque mailbox ids and queued ciphertext, and never imports
private-key code. Start with ``app.create_app`` and ``relay.Relay``; docs/architecture.md
draws the parts and follows one message through them.
"""
