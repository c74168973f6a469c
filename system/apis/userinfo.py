"""userinfo-api: reads and updates the caller's profile in ecoeco_auth."""

from __future__ import annotations

from typing import Any

from fastapi import Depends, HTTPException
from pydantic import BaseModel, Field

from system import settings as settings_mod
from system.apis.common import NO_NUL, create_app, current_user, serve
from system.apis.openapi_doc import errors
from system.db import Database

settings = settings_mod.get()
db = Database(settings.pg_dsn["auth"], "ecoeco_auth")
app = create_app("userinfo-api", lambda: {"ecoeco_auth": db.ping()})


class ProfileUpdate(BaseModel):
    """Editable profile fields."""

    display_name: str = Field(default="", max_length=100, pattern=NO_NUL)
    city: str = Field(default="", max_length=100, pattern=NO_NUL)


def _profile(user_id: int) -> dict[str, Any]:
    with db.transaction() as cur:
        cur.execute("SELECT user_id, username, display_name, city FROM users WHERE user_id=%s", (user_id,))
        row = cur.fetchone()
    if row is None:
        raise HTTPException(404, f"unknown user {user_id}")
    return dict(row)


@app.get("/users/me", responses=errors(404))
def me(user_id: int = Depends(current_user)) -> dict[str, Any]:
    """The caller's profile."""
    return _profile(user_id)


@app.put("/users/me", responses=errors(404))
def update(body: ProfileUpdate, user_id: int = Depends(current_user)) -> dict[str, Any]:
    """Update the caller's display name and city."""
    with db.transaction() as cur:
        cur.execute(
            "UPDATE users SET display_name=%s, city=%s, updated_at=now() WHERE user_id=%s",
            (body.display_name, body.city, user_id),
        )
        if cur.rowcount == 0:
            raise HTTPException(404, f"unknown user {user_id}")
    return _profile(user_id)


if __name__ == "__main__":
    serve(app)
