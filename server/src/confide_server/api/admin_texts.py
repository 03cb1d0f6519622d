"""The admin API for what the organisation writes in more than one language.

A policy version's translations (services/policy_texts.py), and the organisation's own
wording of the client's privacy guide and the worker's checklist before a call
(services/org_texts.py). Reading needs the admin role; every change also needs a recent
step-up, like publishing a policy.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path
from pydantic import Field

from confide_server.api.admin_deps import AdminActDep, AdminReadDep
from confide_server.api.deps import ClockDep, DatabaseDep
from confide_server.api.types import PROBLEMS, Model, PolicyTextOut
from confide_server.services import org_texts, policy_texts, stepup

router = APIRouter(prefix="/v1/admin", tags=["admin"], responses=PROBLEMS)

PolicyVersion = Annotated[int, Path(ge=1, lt=2**31)]
TextName = Literal["privacy_guide", "call_checklist"]
Language = Annotated[str, Path(min_length=2, max_length=35)]


class TranslationIn(Model):
    language: str = Field(min_length=2, max_length=35)
    text: str = Field(min_length=1, max_length=policy_texts.MAX_TEXT)


class OrgTextIn(Model):
    text: str = Field(min_length=1, max_length=org_texts.MAX_TEXT)


@router.post("/policies/{version}/translations", status_code=201)
async def add_translation(
    version: PolicyVersion,
    body: TranslationIn,
    admin: AdminActDep,
    db: DatabaseDep,
    clock: ClockDep,
) -> PolicyTextOut:
    """Publish version ``version`` in one more language (once; 409 if it has that language)."""
    async with db.write() as conn:
        added = await policy_texts.add(
            conn, version, body.language, body.text, clock(), stepup.actor_of(admin)
        )
    return PolicyTextOut(language=added.language, text=added.text, sha256=added.sha256)


@router.get("/texts")
async def list_texts(admin: AdminReadDep, db: DatabaseDep) -> dict[str, dict[str, str]]:
    """The texts the organisation has set: name -> language -> text."""
    async with db.read() as conn:
        return await org_texts.all_texts(conn)


@router.put("/texts/{name}/{language}", status_code=204)
async def set_text(
    name: TextName,
    language: Language,
    body: OrgTextIn,
    admin: AdminActDep,
    db: DatabaseDep,
    clock: ClockDep,
) -> None:
    async with db.write() as conn:
        await org_texts.put(conn, name, language, body.text, clock(), stepup.actor_of(admin))


@router.delete("/texts/{name}/{language}", status_code=204)
async def reset_text(
    name: TextName, language: Language, admin: AdminActDep, db: DatabaseDep, clock: ClockDep
) -> None:
    """Back to the apps' own wording for this text in this language."""
    async with db.write() as conn:
        await org_texts.remove(conn, name, language, clock(), stepup.actor_of(admin))
