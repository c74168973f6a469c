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
-- every reply stored or tried, with the GPT answer it came from: a message answered twice (two
-- GPT calls both written, or a reply replaced) shows as two reply ids for one message
CREATE TABLE IF NOT EXISTS chat_log (
    id         BIGSERIAL PRIMARY KEY,
    message_id TEXT NOT NULL,
    reply_id   TEXT NOT NULL,
    logged_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS chat_log_message ON chat_log (message_id);
