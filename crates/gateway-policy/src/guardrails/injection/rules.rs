//! The injection rules: weighted word-class sequences over normalised words, regexes over the
//! original text for delimiter tricks, and "squashed" phrases matched with separators removed
//! (for letter-spaced or hyphenated words). Weights were set by reasoning about each signal
//! (a strong signal alone reaches the threshold, a weak one needs company), before the corpus
//! was measured; see `docs/guardrails.md`.

use super::Family;
use super::lexicon::*;

/// One element of a word sequence: a word in one of `classes`, at most `gap` words after the
/// previous element (ignored for the first).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Step {
    pub classes: Mask,
    pub gap: u8,
}

const fn s(classes: Mask, gap: u8) -> Step {
    Step { classes, gap }
}

/// A token rule fires when any of its alternative sequences matches.
#[derive(Debug)]
pub(crate) struct TokenRule {
    pub id: &'static str,
    pub family: Family,
    pub weight: f32,
    pub alts: &'static [&'static [Step]],
}

use Family::{
    Delimiter, Encoding, InstructionOverride as Override, PromptExtraction as Extraction, RolePlay,
};

/// `id: Family, weight => [CLASS gap, CLASS gap, ...] | [...];` — each step is a word class
/// (or a parenthesised union) and the number of other words allowed before it.
macro_rules! token_rules {
    ($($id:ident : $family:ident, $weight:literal => $([$($class:tt $gap:literal),+])|+;)*) => {
        #[allow(unused_parens)] // class unions are written `(A | B)` to make one token tree
        pub(crate) static TOKEN_RULES: &[TokenRule] = &[$(TokenRule {
            id: stringify!($id),
            family: $family,
            weight: $weight,
            alts: &[$(&[$(s($class, $gap)),+]),+],
        }),*];
    };
}

token_rules! {
    // --- instruction override ---
    override_scoped: Override, 0.85 =>
        [OVR_VERB 0, SCOPE 3, CORE_TARGET 3]
        | [OVR_VERB 0, CORE_TARGET 2, ABOVE 0]
        | [OVR_VERB 0, CORE_TARGET 2, GIVEN 4]
        | [NEG 0, IGNORE_NOUN 0, SCOPE 2, CORE_TARGET 3];
    override_your: Override, 0.6 =>
        [SOFT_VERB 0, POSSESS 1, (CORE_TARGET | SOFT_TARGET) 2]
        | [SETV 0, ASIDE 0, SCOPE 1, (CORE_TARGET | SOFT_TARGET) 2];
    forget_everything_before: Override, 0.55 => [OVR_VERB 0, EVERYTHING 1, CAME 2];
    override_principal: Override, 0.45 => [OVR_VERB 0, PRINCIPAL 1];
    override_context: Override, 0.45 =>
        [OVR_VERB 0, SCOPE_STRONG 3, PRIOR_CONTENT 2]
        | [OVR_VERB 0, PRIOR_CONTENT 2, (ABOVE | CAME) 0];
    ignore_the_above: Override, 0.6 => [OVR_VERB 0, ABOVE 1, AND 0];
    against_your_rules: Override, 0.6 => [AGAINST 0, POSSESS 3, (CORE_TARGET | SOFT_TARGET) 1];
    secret_request: Override, 0.3 =>
        [SECRET_ADJ 0, PASSWORD_N 1]
        | [WHAT 0, BE 0, PASSWORD_N 1]
        | [(EXTRACT | REPLY) 0, PASSWORD_N 3];
    pwned_payload: Override, 0.4 => [PWNED 0];
    instead_respond: Override, 0.2 => [INSTEAD 0, REPLY 1];
    authority_claim: Override, 0.25 =>
        [I 0, AM 0, AUTHORITY 2]
        | [IM 0, AUTHORITY 2]
        | [FROM 0, AUTHORITY 1];
    now_authorized: Override, 0.45 => [(AI_NOUN | YOU) 0, BE 1, NOW 0, AUTHORIZED 1];
    you_were_updated: Override, 0.4 => [YOU 0, BE 1, UPDATED 1] | [YOURE 0, UPDATED 1];
    override_bare: Override, 0.45 => [OVR_VERB 0, (CORE_TARGET | SOFT_TARGET) 4];
    override_safety: Override, 0.75 => [OVR_VERB 0, SAFETY_ADJ 2, (CORE_TARGET | SOFT_TARGET) 1];
    never_mind_instructions: Override, 0.6 => [NEVER 0, MIND 0, CORE_TARGET 4];
    instructions_void: Override, 0.7 =>
        [SCOPE_STRONG 0, (CORE_TARGET | SOFT_TARGET | PRIOR_CONTENT | RESTRICT) 1, (VOID | DISABLED) 4]
        | [SCOPE_STRONG 0, CORE_TARGET 1, NEG 3, APPLY 1]
        | [YOU 0, BE 0, GIVEN 0, NEG 8, APPLY 1];
    do_not_follow: Override, 0.6 => [NEG 0, FOLLOW 1, CORE_TARGET 4];
    forget_what_you_were_told: Override, 0.7 => [OVR_VERB 0, EVERYTHING 1, YOU 1, GIVEN 1];
    new_instructions: Override, 0.35 => [NEW 0, TASK 1];
    comply_with_everything: Override, 0.4 =>
        [COMPLY 0, ALL 2, REQUESTS 0]
        | [COMPLY 0, EVERYTHING 1];
    obey_me: Override, 0.4 => [OBEY 0, ME 1] | [DO 0, WHAT 0, I 0, SAY 0];
    // --- role-play / jailbreak ---
    you_are_now: RolePlay, 0.2 => [YOU 0, ARE 0, NOW 3] | [YOURE 0, NOW 3];
    you_are_persona: RolePlay, 0.6 => [YOU 0, ARE 0, JB_PERSONA 1] | [YOURE 0, JB_PERSONA 1];
    new_identity: RolePlay, 0.35 =>
        [POSSESS 0, NEW 0, NAME 0]
        | [(YOURE | ARE) 0, MODE_KIND 2, MODE 0]
        | [YOURE 0, MODE 2];
    true_self: RolePlay, 0.4 => [REAL 0, SELF 1];
    no_matter_how_harmful: RolePlay, 0.45 => [LACK 0, MATTER 0, HARMFUL 2];
    from_now_on: RolePlay, 0.2 =>
        [FROM 0, NOW 0, ON 0]
        | [FROM 0, THIS 0, POINT 0, FORWARD 1]
        | [FROM 0, HERE 0, FORWARD 0]
        | [HENCEFORTH 0]
        | [GOING 0, FORWARD 0];
    jailbreak_persona: RolePlay, 0.35 => [JB_PERSONA 0];
    do_anything_now: RolePlay, 0.75 => [DO 0, ANYTHING 0, NOW 0];
    special_mode: RolePlay, 0.35 =>
        [MODE_KIND 0, MODE 0]
        | [(SYS_STRONG | AUTHORITY | SAFETY2 | MODE_KIND) 0, OVERRIDE_N 0];
    unconstrained_ai: RolePlay, 0.6 =>
        [UNCONSTRAINED 0, AI_NOUN 3]
        | [EVIL 0, AI_NOUN 2]
        | [(PERSONA_VERB | AS) 0, (EVIL | UNCONSTRAINED) 3]
        | [AI_NOUN 0, BE 2, FREED 1];
    unconstrained: RolePlay, 0.3 => [UNCONSTRAINED 0];
    no_restrictions: RolePlay, 0.45 =>
        [LACK 0, RESTRICT 3]
        | [RESTRICT 0, DISABLED 2]
        | [RESTRICT 0, NEG 1, EXIST 0];
    ai_without_restrictions: RolePlay, 0.6 =>
        [AI_NOUN 0, LACK 4, RESTRICT 3]
        | [AI_NOUN 0, RESTRICT 4, DISABLED 2];
    safety_disabled: RolePlay, 0.55 =>
        [SAFETY2 0, (RESTRICT | SOFT_TARGET) 1, DISABLED 2]
        | [SAFETY2 0, RESTRICT 0, NEG 1, EXIST 0]
        | [SAFETY2 0, (RESTRICT | CORE_TARGET) 1, NEG 1, EXIST 0];
    broken_rules: RolePlay, 0.45 => [BROKEN 0, (RESTRICT | CORE_TARGET) 2];
    not_bound_by_rules: RolePlay, 0.5 => [NEG 0, BOUND 3, RESTRICT 3];
    persona: RolePlay, 0.15 => [PERSONA_VERB 0] | [ANSWER_V 0, AS 0];
    stay_in_character: RolePlay, 0.2 => [STAY 0, IN 1, CHARACTER 0];
    broken_free: RolePlay, 0.4 => [BROKEN 0, FREE 1];
    jailbreak: RolePlay, 0.35 => [JAILBREAK 0];
    never_refuse: RolePlay, 0.35 => [(NEG | LACK) 0, REFUSE 1];
    // --- system-prompt extraction ---
    reveal_your_instructions: Extraction, 0.8 => [(EXTRACT | REPLY) 0, POSSESS 6, TARGET 2];
    what_are_your_instructions: Extraction, 0.45 => [WHAT 0, BE 0, POSSESS 0, TARGET_STRICT 2];
    reveal_system_prompt: Extraction, 0.8 => [EXTRACT 0, DET 4, SYS_ADJ 1, PROMPT_NOUN 0];
    reveal_above_prompt: Extraction, 0.7 => [EXTRACT 0, ABOVE 2, TARGET_STRICT 1];
    mentions_your_system_prompt: Extraction, 0.5 => [POSSESS 0, SYS_STRONG 0, PROMPT_NOUN 0];
    mentions_your_instructions: Extraction, 0.4 => [PREP 0, POSSESS 0, TARGET_STRICT 0];
    repeat_text_above: Extraction, 0.55 => [REPEAT 0, CONTENT 3, ABOVE 2];
    verbatim: Extraction, 0.3 => [VERBATIM 0] | [WORD 0, FOR 0, WORD 0] | [INCLUDE 0, EVERYTHING 1];
    instructions_you_were_given: Extraction, 0.65 =>
        [(TARGET | CONTENT) 0, YOU 1, GIVEN 2]
        | [(SYS_STRONG | PRINCIPAL | AUTHORITY) 0, GAVE 1, YOU 0]
        | [TARGET 0, GAVE 2, YOU 0]
        | [WHAT 0, BE 1, YOU 0, GIVEN 0];
    start_of_conversation: Extraction, 0.35 =>
        [BEGIN 0, OF 0, THIS 0, CONVERSATION 0]
        | [BEFORE 0, THIS 0, CONVERSATION 0];
    // --- delimiter tricks (word level) ---
    end_of_input: Delimiter, 0.4 => [END 0, OF 0, INPUT_NOUN 1];
    // --- encoding tricks ---
    decode_and_follow: Encoding, 0.45 => [DECODE 0, EXEC 10, OBJ 2] | [EXEC 0, ENC_WORD 3];
    do_what_it_says: Encoding, 0.4 => [DO 0, WHAT 1, IT 0, SAYS 0];
}

/// Weight of the synthetic signal raised when a decoded base64/hex segment itself fires an
/// override, role-play, extraction or delimiter rule.
pub(crate) const HIDDEN_PAYLOAD_WEIGHT: f32 = 0.5;
pub(crate) const HIDDEN_PAYLOAD_RULE: &str = "hidden_instructions";

/// Raised (with the hidden-payload weight, so it blocks at the default threshold) when a
/// text holds more encoded text than is decoded: the check fails closed rather than letting
/// what was not decoded through.
pub(crate) const DECODE_BUDGET_RULE: &str = "decode_budget_exceeded";

/// Regex rules over the original text (ASCII, case-insensitive), all in the delimiter family.
pub(crate) static REGEX_RULES: &[(&str, f32, &str)] = &[
    (
        "chat_template_token",
        0.4,
        r"<\|\s*(?:im_start|im_end|im_sep|endoftext|end_of_text|begin_of_text|start_header_id|end_header_id|eot_id|eom_id|system|user|assistant)\s*\|>",
    ),
    (
        "chat_template_system_role",
        0.45,
        r"<\|im_start\|>\s*(?:system|assistant)|<\|start_header_id\|>\s*(?:system|assistant)|<\|system\|>",
    ),
    ("llama_markers", 0.4, r"\[/?INST\]|<</?SYS>>|</s>\s*<s>"),
    (
        "fake_role_header",
        0.35,
        r"(?m)^[ \t]*(?:#{1,6}|={2,}|-{2,}|\*{2}|>)?[ \t]*(?:system|assistant|developer|admin|administrator)(?:[ \t]+(?:message|prompt|instructions?|override|note|update))?[ \t]*(?::|\]|={2,}|-{2,}|\*\*)",
    ),
    (
        "json_role_injection",
        0.4,
        r#""role"\s*:\s*"(?:system|developer)""#,
    ),
    (
        "pseudo_xml_role",
        0.35,
        r"</?\s*(?:system|sys|instructions?|admin|developer|system_prompt)\s*>",
    ),
    (
        "markdown_role_link",
        0.45,
        r"\[(?:system|admin|developer)\]\s*\(",
    ),
    (
        "bracketed_role_marker",
        0.4,
        r"(?:<<|\[\[|\{\{)\s*/?\s*(?:(?:begin|end|start)\s+)?(?:system|sys|admin|developer|instructions?)(?:\s+(?:prompt|message))?\s*(?:>>|\]\]|\}\})",
    ),
    (
        "context_breakout",
        0.3,
        r"\]\]>|</(?:query|input|document|context|data|user_input|user|text)>",
    ),
];

/// Phrases matched on the squashed text (words concatenated), mapped to the token rule they
/// stand for, so that a phrase found both ways counts once.
pub(crate) fn squashed_phrases() -> Vec<(String, &'static str)> {
    let mut out = Vec::new();
    let verbs = [
        "ignore",
        "disregard",
        "forget",
        "bypass",
        "override",
        "skip",
    ];
    let dets = ["", "all", "the", "your", "allthe", "allyour", "any"];
    let scopes = [
        "previous",
        "prior",
        "above",
        "earlier",
        "preceding",
        "original",
        "initial",
    ];
    let targets = [
        "instructions",
        "instruction",
        "rules",
        "directions",
        "guidelines",
        "prompts",
        "prompt",
        "directives",
    ];
    for v in verbs {
        for d in dets {
            for sc in scopes {
                for t in targets {
                    out.push((format!("{v}{d}{sc}{t}"), "override_scoped"));
                }
            }
        }
    }
    let extract = [
        "reveal", "print", "show", "repeat", "output", "tell", "leak", "dump", "display", "share",
    ];
    let whose = ["your", "the", "meyour", "usyour", "methe"];
    let what = [
        "systemprompt",
        "systemmessage",
        "initialinstructions",
        "initialprompt",
        "hiddeninstructions",
        "hiddenprompt",
        "originalinstructions",
        "secretinstructions",
    ];
    for v in extract {
        for o in whose {
            for t in what {
                out.push((format!("{v}{o}{t}"), "reveal_system_prompt"));
            }
        }
    }
    out.push(("doanythingnow".into(), "do_anything_now"));
    out
}

pub(crate) fn token_rule(id: &str) -> Option<(usize, &'static TokenRule)> {
    TOKEN_RULES.iter().enumerate().find(|(_, r)| r.id == id)
}
