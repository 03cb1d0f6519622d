"""The HTTP API under /v1: one router per resource, shared types and dependencies."""
