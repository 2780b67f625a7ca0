-- Stored answers of the Responses API (`POST /v1/responses` with `store`): the response
-- object, the input items of its request and the conversation `previous_response_id`
-- continues, as JSON text. Every lookup names the tenant; retention deletes by age.
CREATE TABLE responses (
    id            TEXT PRIMARY KEY,
    tenant        TEXT NOT NULL,
    created_at_ms BIGINT NOT NULL,
    response      TEXT NOT NULL,
    input_items   TEXT NOT NULL,
    conversation  TEXT NOT NULL
);
CREATE INDEX responses_created ON responses (created_at_ms);
