"""The floor under ``confide serve``'s start, for bench/startup.py: the relay's own stack
(Python, FastAPI, pydantic, uvicorn) serving one /healthz route and nothing else.

What a restart of the relay costs beyond this is the relay's: its routers and models, its
store (SQLAlchemy, the schema check), its settings, metrics and background tasks.

    .venv/bin/python bench/startup_reference.py PORT
"""

from __future__ import annotations

import sys

import uvicorn
from fastapi import FastAPI

app = FastAPI()


@app.get("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


if __name__ == "__main__":
    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning")
