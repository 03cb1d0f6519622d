"""How the SDK reaches a relay: the Transport protocol and its HTTP + WebSocket implementation."""
