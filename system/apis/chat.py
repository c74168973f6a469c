"""chat-llm-api: stores conversations in ecoeco_chat and answers through GPT-4o mini.

Choice (documented in README): the API calls GPT-4o mini directly through the same respx
fake the workers use, then stores the message and the reply in one transaction. A chat
answer is interactive, so queueing it behind image analysis would only add latency. A GPT
failure answers 503 and stores nothing: a message is acknowledged (201) only when stored.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

import openai
from fastapi import Depends, HTTPException, Path
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from system import metrics
from system import settings as settings_mod
from system.apis.common import NO_NUL, create_app, current_user, serve
from system.apis.openapi_doc import errors
from system.db import Database
from system.fakes.gpt import make_client

settings = settings_mod.get()
db = Database(settings.pg_dsn["chat"], "ecoeco_chat")
gpt = make_client(settings.gpt_control, settings.gpt_base_url, settings.gpt_timeout_s, settings.time_scale)
app = create_app("chat-llm-api", lambda: {"ecoeco_chat": db.ping()})
ID = r"^[A-Za-z0-9_-]{8,64}$"


class ChatMessage(BaseModel):
    """A user's message, with a client-generated id for idempotency."""

    message_id: str = Field(pattern=ID)
    conversation_id: str = Field(pattern=ID)
    text: str = Field(min_length=1, max_length=4000, pattern=NO_NUL)


@app.post("/chat/messages", status_code=201, responses=errors(409))
def post_message(body: ChatMessage, user_id: int = Depends(current_user)) -> JSONResponse:
    """Answer a message and store both; repeating a message_id returns the stored reply."""
    with db.transaction() as cur:
        cur.execute("SELECT user_id, reply FROM messages WHERE message_id=%s", (body.message_id,))
        existing = cur.fetchone()
    if existing is not None:
        if existing["user_id"] != user_id:
            raise HTTPException(409, "message_id already used by another user")
        return JSONResponse(status_code=201, content={"message_id": body.message_id, "reply": existing["reply"]})
    try:
        resp = gpt.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": body.text}])
    except openai.APIError as exc:
        metrics.GPT4O_MINI_ERRORS.inc()
        raise HTTPException(503, f"GPT-4o mini unavailable: {exc.__class__.__name__}") from exc
    reply = resp.choices[0].message.content or ""
    with db.transaction() as cur:
        cur.execute("INSERT INTO chat_log (message_id, reply_id) VALUES (%s,%s)", (body.message_id, uuid.uuid4().hex))
        cur.execute(
            "INSERT INTO messages (message_id, conversation_id, user_id, text, reply) VALUES (%s,%s,%s,%s,%s) "
            "ON CONFLICT (message_id) DO NOTHING RETURNING reply",
            (body.message_id, body.conversation_id, user_id, body.text, reply),
        )
        if cur.fetchone() is None:  # a concurrent request for the same message stored first: answer with it
            cur.execute("SELECT reply FROM messages WHERE message_id=%s", (body.message_id,))
            stored = cur.fetchone()
            reply = stored["reply"] if stored else reply
    return JSONResponse(status_code=201, content={"message_id": body.message_id, "reply": reply})


@app.get("/chat/conversations/{conversation_id}")
def conversation(
    conversation_id: Annotated[str, Path(pattern=ID)], user_id: int = Depends(current_user)
) -> dict[str, Any]:
    """The caller's messages in one conversation, oldest first."""
    with db.transaction() as cur:
        cur.execute(
            "SELECT message_id, text, reply, created_at FROM messages WHERE conversation_id=%s "
            "AND user_id=%s ORDER BY created_at",
            (conversation_id, user_id),
        )
        rows = cur.fetchall()
    return {
        "conversation_id": conversation_id,
        "messages": [dict(r, created_at=r["created_at"].isoformat()) for r in rows],
    }


if __name__ == "__main__":
    serve(app)
