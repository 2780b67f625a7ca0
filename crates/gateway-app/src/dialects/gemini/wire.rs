//! The request side of Google's Gemini REST API (`v1beta`), as the gateway reads it.
//!
//! Google's JSON parser accepts both the camelCase names of its documentation and the
//! snake_case names of its protocol buffers (Google's own curl examples use
//! `system_instruction` and `inline_data`), so every field takes both. Unknown fields are
//! refused, as Google refuses them ("Unknown name ... Cannot find field"), except inside
//! function calls and responses, which newer API versions keep growing. Fields that change
//! nothing the gateway can honour across providers (labels, media resolution, a document
//! title for retrieval embeddings) are accepted and ignored (`IgnoredAny`).

use serde::Deserialize;
use serde::de::IgnoredAny;
use serde_json::{Map, Value};

/// `GenerateContentRequest` (also the `generateContentRequest` of `countTokens`).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
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
    #[serde(alias = "safety_settings")]
    pub safety_settings: Option<Vec<Value>>,
    #[serde(alias = "cached_content")]
    pub cached_content: Option<String>,
    /// Billing labels of Google's; accepted and ignored.
    #[serde(rename = "labels")]
    _labels: Option<IgnoredAny>,
    /// Named in `countTokens`' `generateContentRequest`.
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
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WireContent {
    pub role: Option<String>,
    #[serde(default)]
    pub parts: Vec<WirePart>,
}

/// `Part`: exactly one kind of data, with optional metadata.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
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
    _video_metadata: Option<IgnoredAny>,
    #[serde(rename = "partMetadata", alias = "part_metadata")]
    _part_metadata: Option<IgnoredAny>,
    #[serde(rename = "mediaResolution", alias = "media_resolution")]
    _media_resolution: Option<IgnoredAny>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Blob {
    #[serde(alias = "mime_type")]
    pub mime_type: String,
    /// Base64.
    pub data: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct FileData {
    #[serde(alias = "mime_type")]
    pub mime_type: Option<String>,
    #[serde(alias = "file_uri")]
    pub file_uri: String,
}

#[derive(Debug, Deserialize)]
pub struct FunctionCall {
    pub id: Option<String>,
    pub name: String,
    pub args: Option<Value>,
}

#[derive(Debug, Deserialize)]
pub struct FunctionResponse {
    pub id: Option<String>,
    pub name: String,
    #[serde(default)]
    pub response: Value,
}

/// `Tool`: function declarations, or one of Google's built-in tools (kept to be refused by
/// name).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WireTool {
    #[serde(alias = "function_declarations")]
    pub function_declarations: Option<Vec<FunctionDeclaration>>,
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FunctionDeclaration {
    pub name: String,
    pub description: Option<String>,
    /// Google's OpenAPI subset (upper-case type names).
    pub parameters: Option<Value>,
    /// Plain JSON Schema.
    #[serde(alias = "parameters_json_schema")]
    pub parameters_json_schema: Option<Value>,
    /// What the function returns, and whether calls block: no equivalent elsewhere.
    #[serde(rename = "response")]
    _response: Option<IgnoredAny>,
    #[serde(rename = "responseJsonSchema", alias = "response_json_schema")]
    _response_json_schema: Option<IgnoredAny>,
    #[serde(rename = "behavior")]
    _behavior: Option<IgnoredAny>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ToolConfig {
    #[serde(alias = "function_calling_config")]
    pub function_calling_config: Option<FunctionCallingConfig>,
    /// Location hints for Google's retrieval tools; accepted and ignored.
    #[serde(rename = "retrievalConfig", alias = "retrieval_config")]
    _retrieval_config: Option<IgnoredAny>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct FunctionCallingConfig {
    pub mode: Option<String>,
    #[serde(alias = "allowed_function_names")]
    pub allowed_function_names: Option<Vec<String>>,
}

/// `GenerationConfig`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct GenerationConfig {
    #[serde(alias = "stop_sequences")]
    pub stop_sequences: Option<Vec<String>>,
    #[serde(alias = "response_mime_type")]
    pub response_mime_type: Option<String>,
    #[serde(alias = "response_schema")]
    pub response_schema: Option<Value>,
    #[serde(alias = "response_json_schema", alias = "_responseJsonSchema")]
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
    #[serde(alias = "thinking_config")]
    pub thinking_config: Option<Value>,
    #[serde(
        rename = "enableEnhancedCivicAnswers",
        alias = "enable_enhanced_civic_answers"
    )]
    _enable_enhanced_civic_answers: Option<IgnoredAny>,
    #[serde(rename = "mediaResolution", alias = "media_resolution")]
    _media_resolution: Option<IgnoredAny>,
    #[serde(alias = "speech_config")]
    pub speech_config: Option<Value>,
    #[serde(alias = "image_config")]
    pub image_config: Option<Value>,
}

/// `countTokens`: the contents alone, or a whole `generateContentRequest`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CountTokensRequest {
    #[serde(default)]
    pub contents: Vec<WireContent>,
    #[serde(alias = "generate_content_request")]
    pub generate_content_request: Option<GenerateContentRequest>,
}

/// `embedContent`, and each of `batchEmbedContents`' `requests`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct EmbedContentRequest {
    pub model: Option<String>,
    pub content: WireContent,
    #[serde(alias = "task_type")]
    pub task_type: Option<String>,
    #[serde(rename = "title")]
    _title: Option<IgnoredAny>,
    #[serde(alias = "output_dimensionality")]
    pub output_dimensionality: Option<u32>,
}

/// `batchEmbedContents`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BatchEmbedContentsRequest {
    pub requests: Vec<EmbedContentRequest>,
}
