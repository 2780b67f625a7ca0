//! Inbound API dialects other than OpenAI's: pure translations between a dialect's wire
//! format and the canonical types, without I/O (the edge wires them to routes).

pub mod anthropic;
