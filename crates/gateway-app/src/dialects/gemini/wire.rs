//! The request side of Google's Gemini REST API (`v1beta`), as the gateway reads it.
//!
//! Google's JSON parser accepts both the camelCase names of its documentation and the
//! snake_case names of its protocol buffers (Google's own curl examples use
//! `system_instruction` and `inline_data`), so every field takes both. Unknown fields are
//! refused, as Google refuses them ("Unknown name ... Cannot find field"), except inside
//! function calls and responses, which newer API versions keep growing. Fields that change
//! nothing the gateway can honour across providers (labels, media resolution, a document
//! title for retrieval embeddings) are accepted and ignored (`IgnoredAny`).

use schemars::JsonSchema;
use serde::Deserialize;
use serde::de::IgnoredAny;
use serde_json::{Map, Value};

/// `GenerateContentRequest` (also the `generateContentRequest` of `countTokens`).
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schemars(rename = "GeminiGenerateContentRequest")]
pub struct GenerateContentRequest {
    #[serde(default)]
    pub contents: Vec<WireContent>,
    #[serde(alias = "system_instruction")]
    pub system_instruction: Option<WireContent>,
    #[serde(default)]
    pub tools: Vec<WireTool>,
    #[serde(alias = "tool_config")]
    pub tool_config: Option<ToolConfig>,
    #[serde(alias = "generation_config")]
    pub generation_config: Option<GenerationConfig>,
    /// Passed to Gemini upstreams; other providers have no equivalent.
    #[serde(alias = "safety_settings")]
    #[schemars(with = "Option<Vec<SafetySetting>>")]
    pub safety_settings: Option<Vec<Value>>,
    #[serde(alias = "cached_content")]
    pub cached_content: Option<String>,
    /// Billing labels of Google's; accepted and ignored.
    #[serde(rename = "labels")]
    #[schemars(with = "Option<Value>")]
    _labels: Option<IgnoredAny>,
    /// Named in `countTokens`' `generateContentRequest` (`models/{model}`).
    pub model: Option<String>,
}

impl GenerateContentRequest {
    /// A request of `contents` alone (what `countTokens` may send).
    pub fn of_contents(contents: Vec<WireContent>) -> Self {
        GenerateContentRequest {
            contents,
            ..GenerateContentRequest::default()
        }
    }
}

/// `Content`: a turn of the conversation, or the system instruction.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "GeminiContent")]
pub struct WireContent {
    /// `user` (the default), `model`, or `function` (function responses).
    #[schemars(extend("enum" = ["user", "model", "function", null]))]
    pub role: Option<String>,
    #[serde(default)]
    pub parts: Vec<WirePart>,
}

/// `Part`: exactly one kind of data, with optional metadata.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schemars(rename = "GeminiPart")]
pub struct WirePart {
    pub text: Option<String>,
    pub thought: Option<bool>,
    #[serde(alias = "thought_signature")]
    pub thought_signature: Option<String>,
    #[serde(alias = "inline_data")]
    pub inline_data: Option<Blob>,
    #[serde(alias = "file_data")]
    pub file_data: Option<FileData>,
    #[serde(alias = "function_call")]
    pub function_call: Option<FunctionCall>,
    #[serde(alias = "function_response")]
    pub function_response: Option<FunctionResponse>,
    #[serde(alias = "executable_code")]
    pub executable_code: Option<Value>,
    #[serde(alias = "code_execution_result")]
    pub code_execution_result: Option<Value>,
    #[serde(rename = "videoMetadata", alias = "video_metadata")]
    #[schemars(with = "Option<Value>")]
    _video_metadata: Option<IgnoredAny>,
    #[serde(rename = "partMetadata", alias = "part_metadata")]
    #[schemars(with = "Option<Value>")]
    _part_metadata: Option<IgnoredAny>,
    #[serde(rename = "mediaResolution", alias = "media_resolution")]
    #[schemars(with = "Option<Value>")]
    _media_resolution: Option<IgnoredAny>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schemars(rename = "GeminiBlob")]
pub struct Blob {
    #[serde(alias = "mime_type")]
    pub mime_type: String,
    /// Base64.
    pub data: String,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schemars(rename = "GeminiFileData")]
pub struct FileData {
    #[serde(alias = "mime_type")]
    pub mime_type: Option<String>,
    #[serde(alias = "file_uri")]
    pub file_uri: String,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[schemars(rename = "GeminiFunctionCall")]
pub struct FunctionCall {
    pub id: Option<String>,
    pub name: String,
    /// The arguments, an object.
    #[schemars(with = "Option<Map<String, Value>>")]
    pub args: Option<Value>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[schemars(rename = "GeminiFunctionResponse")]
pub struct FunctionResponse {
    pub id: Option<String>,
    pub name: String,
    /// What the function returned, an object (`{"result": ...}` by Google's convention).
    #[serde(default)]
    #[schemars(with = "Option<Map<String, Value>>")]
    pub response: Value,
}

/// `Tool`: function declarations, or one of Google's built-in tools (kept to be refused by
/// name).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(rename = "GeminiTool")]
pub struct WireTool {
    #[serde(alias = "function_declarations")]
    pub function_declarations: Option<Vec<FunctionDeclaration>>,
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(rename = "GeminiFunctionDeclaration")]
pub struct FunctionDeclaration {
    pub name: String,
    pub description: Option<String>,
    /// Google's OpenAPI subset (upper-case type names: `OBJECT`, `STRING`, ...).
    #[schemars(with = "Option<Map<String, Value>>")]
    pub parameters: Option<Value>,
    /// Plain JSON Schema (instead of `parameters`).
    #[serde(alias = "parameters_json_schema")]
    #[schemars(with = "Option<Map<String, Value>>")]
    pub parameters_json_schema: Option<Value>,
    /// What the function returns, and whether calls block: no equivalent elsewhere.
    #[serde(rename = "response")]
    #[schemars(with = "Option<Value>")]
    _response: Option<IgnoredAny>,
    #[serde(rename = "responseJsonSchema", alias = "response_json_schema")]
    #[schemars(with = "Option<Value>")]
    _response_json_schema: Option<IgnoredAny>,
    #[serde(rename = "behavior")]
    #[schemars(with = "Option<Value>")]
    _behavior: Option<IgnoredAny>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schemars(rename = "GeminiToolConfig")]
pub struct ToolConfig {
    #[serde(alias = "function_calling_config")]
    pub function_calling_config: Option<FunctionCallingConfig>,
    /// Location hints for Google's retrieval tools; accepted and ignored.
    #[serde(rename = "retrievalConfig", alias = "retrieval_config")]
    #[schemars(with = "Option<Value>")]
    _retrieval_config: Option<IgnoredAny>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schemars(rename = "GeminiFunctionCallingConfig")]
pub struct FunctionCallingConfig {
    /// `AUTO` (the default), `ANY` (a call is required), `NONE`, or `VALIDATED`.
    #[schemars(extend("enum" = ["MODE_UNSPECIFIED", "AUTO", "ANY", "NONE", "VALIDATED", null]))]
    pub mode: Option<String>,
    #[serde(alias = "allowed_function_names")]
    pub allowed_function_names: Option<Vec<String>>,
}

/// `GenerationConfig`.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schemars(rename = "GeminiGenerationConfig")]
pub struct GenerationConfig {
    #[serde(alias = "stop_sequences")]
    pub stop_sequences: Option<Vec<String>>,
    /// `text/plain` (the default) or `application/json` (structured output).
    #[serde(alias = "response_mime_type")]
    pub response_mime_type: Option<String>,
    /// The answer's schema in Google's OpenAPI subset (needs `application/json`).
    #[serde(alias = "response_schema")]
    #[schemars(with = "Option<Map<String, Value>>")]
    pub response_schema: Option<Value>,
    /// The answer's schema as plain JSON Schema (needs `application/json`; preferred over
    /// `responseSchema`).
    #[serde(alias = "response_json_schema", alias = "_responseJsonSchema")]
    #[schemars(with = "Option<Map<String, Value>>")]
    pub response_json_schema: Option<Value>,
    #[serde(alias = "response_modalities")]
    pub response_modalities: Option<Vec<String>>,
    #[serde(alias = "candidate_count")]
    pub candidate_count: Option<u32>,
    #[serde(alias = "max_output_tokens")]
    pub max_output_tokens: Option<u32>,
    pub temperature: Option<f64>,
    #[serde(alias = "top_p")]
    pub top_p: Option<f64>,
    #[serde(alias = "top_k")]
    pub top_k: Option<f64>,
    pub seed: Option<i64>,
    #[serde(alias = "presence_penalty")]
    pub presence_penalty: Option<f64>,
    #[serde(alias = "frequency_penalty")]
    pub frequency_penalty: Option<f64>,
    #[serde(alias = "response_logprobs")]
    pub response_logprobs: Option<bool>,
    pub logprobs: Option<u32>,
    /// Reasoning: a Gemini upstream gets it as it is, other providers the matching
    /// `reasoning_effort`.
    #[serde(alias = "thinking_config")]
    #[schemars(with = "Option<ThinkingConfig>")]
    pub thinking_config: Option<Value>,
    #[serde(
        rename = "enableEnhancedCivicAnswers",
        alias = "enable_enhanced_civic_answers"
    )]
    #[schemars(with = "Option<Value>")]
    _enable_enhanced_civic_answers: Option<IgnoredAny>,
    #[serde(rename = "mediaResolution", alias = "media_resolution")]
    #[schemars(with = "Option<Value>")]
    _media_resolution: Option<IgnoredAny>,
    #[serde(alias = "speech_config")]
    #[schemars(with = "Option<Map<String, Value>>")]
    pub speech_config: Option<Value>,
    #[serde(alias = "image_config")]
    #[schemars(with = "Option<Map<String, Value>>")]
    pub image_config: Option<Value>,
}

/// `ThinkingConfig`, as the document describes it (the gateway keeps the object as sent).
#[derive(JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(rename = "GeminiThinkingConfig")]
#[allow(dead_code)] // read by schemars only
struct ThinkingConfig {
    /// Whether the answer includes the model's thoughts (`thought` parts).
    include_thoughts: Option<bool>,
    /// Tokens to think with: `0` none, `-1` as the model decides, otherwise a budget.
    thinking_budget: Option<i64>,
    /// `MINIMAL`, `LOW`, `MEDIUM` or `HIGH` (instead of a budget; any case).
    thinking_level: Option<String>,
}

/// `SafetySetting`, as the document describes it (passed to Gemini upstreams as sent).
#[derive(JsonSchema)]
#[schemars(rename = "GeminiSafetySetting")]
#[allow(dead_code)] // read by schemars only
struct SafetySetting {
    /// `HARM_CATEGORY_HARASSMENT`, `HARM_CATEGORY_HATE_SPEECH`, ...
    category: String,
    /// `BLOCK_NONE`, `BLOCK_ONLY_HIGH`, `BLOCK_MEDIUM_AND_ABOVE`, `BLOCK_LOW_AND_ABOVE`, `OFF`.
    threshold: String,
}

/// `countTokens`: the contents alone, or a whole `generateContentRequest`.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schemars(rename = "GeminiCountTokensRequest")]
pub struct CountTokensRequest {
    #[serde(default)]
    pub contents: Vec<WireContent>,
    #[serde(alias = "generate_content_request")]
    pub generate_content_request: Option<GenerateContentRequest>,
}

/// `embedContent`, and each of `batchEmbedContents`' `requests`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schemars(rename = "GeminiEmbedContentRequest")]
pub struct EmbedContentRequest {
    pub model: Option<String>,
    pub content: WireContent,
    /// `RETRIEVAL_QUERY`, `RETRIEVAL_DOCUMENT`, `SEMANTIC_SIMILARITY`, `CLASSIFICATION`, ...
    #[serde(alias = "task_type")]
    pub task_type: Option<String>,
    #[serde(rename = "title")]
    #[schemars(with = "Option<Value>")]
    _title: Option<IgnoredAny>,
    #[serde(alias = "output_dimensionality")]
    pub output_dimensionality: Option<u32>,
}

/// `batchEmbedContents`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "GeminiBatchEmbedContentsRequest")]
pub struct BatchEmbedContentsRequest {
    pub requests: Vec<EmbedContentRequest>,
}
