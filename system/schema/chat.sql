-- ecoeco_chat: LLM chat history (chat-llm-api); one row per user message and its reply
CREATE TABLE IF NOT EXISTS messages (
    message_id      TEXT PRIMARY KEY,
    conversation_id TEXT NOT NULL,
    user_id         BIGINT NOT NULL,
    text            TEXT NOT NULL,
    reply           TEXT NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS messages_conversation ON messages (conversation_id, created_at);
