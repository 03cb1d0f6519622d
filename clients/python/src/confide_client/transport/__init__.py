"""How the SDK reaches a relay: the Transport protocol and its two implementations."""
