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

const fn w(classes: Mask) -> Step {
    Step { classes, gap: 0 }
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

pub(crate) static TOKEN_RULES: &[TokenRule] = &[
    // --- instruction override ---
    TokenRule {
        id: "override_scoped",
        family: Override,
        weight: 0.85,
        alts: &[
            &[w(OVR_VERB), s(SCOPE, 3), s(CORE_TARGET, 3)],
            &[w(OVR_VERB), s(CORE_TARGET, 2), w(ABOVE)],
            &[w(OVR_VERB), s(CORE_TARGET, 2), s(GIVEN, 4)],
            &[w(NEG), w(IGNORE_NOUN), s(SCOPE, 2), s(CORE_TARGET, 3)],
        ],
    },
    TokenRule {
        id: "override_your",
        family: Override,
        weight: 0.6,
        alts: &[
            &[w(SOFT_VERB), s(POSSESS, 1), s(CORE_TARGET | SOFT_TARGET, 2)],
            &[
                w(SETV),
                w(ASIDE),
                s(SCOPE, 1),
                s(CORE_TARGET | SOFT_TARGET, 2),
            ],
        ],
    },
    TokenRule {
        id: "forget_everything_before",
        family: Override,
        weight: 0.55,
        alts: &[&[w(OVR_VERB), s(EVERYTHING, 1), s(CAME, 2)]],
    },
    TokenRule {
        id: "override_principal",
        family: Override,
        weight: 0.45,
        alts: &[&[w(OVR_VERB), s(PRINCIPAL, 1)]],
    },
    TokenRule {
        id: "override_context",
        family: Override,
        weight: 0.45,
        alts: &[
            &[w(OVR_VERB), s(SCOPE_STRONG, 3), s(PRIOR_CONTENT, 2)],
            &[w(OVR_VERB), s(PRIOR_CONTENT, 2), w(ABOVE | CAME)],
        ],
    },
    TokenRule {
        id: "ignore_the_above",
        family: Override,
        weight: 0.6,
        alts: &[&[w(OVR_VERB), s(ABOVE, 1), w(AND)]],
    },
    TokenRule {
        id: "against_your_rules",
        family: Override,
        weight: 0.6,
        alts: &[&[w(AGAINST), s(POSSESS, 3), s(CORE_TARGET | SOFT_TARGET, 1)]],
    },
    TokenRule {
        id: "secret_request",
        family: Override,
        weight: 0.3,
        alts: &[
            &[w(SECRET_ADJ), s(PASSWORD_N, 1)],
            &[w(WHAT), w(BE), s(PASSWORD_N, 1)],
            &[w(EXTRACT | REPLY), s(PASSWORD_N, 3)],
        ],
    },
    TokenRule {
        id: "pwned_payload",
        family: Override,
        weight: 0.4,
        alts: &[&[w(PWNED)]],
    },
    TokenRule {
        id: "instead_respond",
        family: Override,
        weight: 0.2,
        alts: &[&[w(INSTEAD), s(REPLY, 1)]],
    },
    TokenRule {
        id: "authority_claim",
        family: Override,
        weight: 0.25,
        alts: &[
            &[w(I), w(AM), s(AUTHORITY, 2)],
            &[w(IM), s(AUTHORITY, 2)],
            &[w(FROM), s(AUTHORITY, 1)],
        ],
    },
    TokenRule {
        id: "now_authorized",
        family: Override,
        weight: 0.45,
        alts: &[&[w(AI_NOUN | YOU), s(BE, 1), w(NOW), s(AUTHORIZED, 1)]],
    },
    TokenRule {
        id: "you_were_updated",
        family: Override,
        weight: 0.4,
        alts: &[
            &[w(YOU), s(BE, 1), s(UPDATED, 1)],
            &[w(YOURE), s(UPDATED, 1)],
        ],
    },
    TokenRule {
        id: "override_bare",
        family: Override,
        weight: 0.45,
        alts: &[&[w(OVR_VERB), s(CORE_TARGET | SOFT_TARGET, 4)]],
    },
    TokenRule {
        id: "override_safety",
        family: Override,
        weight: 0.75,
        alts: &[&[
            w(OVR_VERB),
            s(SAFETY_ADJ, 2),
            s(CORE_TARGET | SOFT_TARGET, 1),
        ]],
    },
    TokenRule {
        id: "never_mind_instructions",
        family: Override,
        weight: 0.6,
        alts: &[&[w(NEVER), w(MIND), s(CORE_TARGET, 4)]],
    },
    TokenRule {
        id: "instructions_void",
        family: Override,
        weight: 0.7,
        alts: &[
            &[
                w(SCOPE_STRONG),
                s(CORE_TARGET | SOFT_TARGET | PRIOR_CONTENT | RESTRICT, 1),
                s(VOID | DISABLED, 4),
            ],
            &[w(SCOPE_STRONG), s(CORE_TARGET, 1), s(NEG, 3), s(APPLY, 1)],
            &[w(YOU), w(BE), w(GIVEN), s(NEG, 8), s(APPLY, 1)],
        ],
    },
    TokenRule {
        id: "do_not_follow",
        family: Override,
        weight: 0.6,
        alts: &[&[w(NEG), s(FOLLOW, 1), s(CORE_TARGET, 4)]],
    },
    TokenRule {
        id: "forget_what_you_were_told",
        family: Override,
        weight: 0.7,
        alts: &[&[w(OVR_VERB), s(EVERYTHING, 1), s(YOU, 1), s(GIVEN, 1)]],
    },
    TokenRule {
        id: "new_instructions",
        family: Override,
        weight: 0.35,
        alts: &[&[w(NEW), s(TASK, 1)]],
    },
    TokenRule {
        id: "comply_with_everything",
        family: Override,
        weight: 0.4,
        alts: &[
            &[w(COMPLY), s(ALL, 2), w(REQUESTS)],
            &[w(COMPLY), s(EVERYTHING, 1)],
        ],
    },
    TokenRule {
        id: "obey_me",
        family: Override,
        weight: 0.4,
        alts: &[&[w(OBEY), s(ME, 1)], &[w(DO), w(WHAT), w(I), w(SAY)]],
    },
    // --- role-play / jailbreak ---
    TokenRule {
        id: "you_are_now",
        family: RolePlay,
        weight: 0.2,
        alts: &[&[w(YOU), w(ARE), s(NOW, 3)], &[w(YOURE), s(NOW, 3)]],
    },
    TokenRule {
        id: "you_are_persona",
        family: RolePlay,
        weight: 0.6,
        alts: &[
            &[w(YOU), w(ARE), s(JB_PERSONA, 1)],
            &[w(YOURE), s(JB_PERSONA, 1)],
        ],
    },
    TokenRule {
        id: "new_identity",
        family: RolePlay,
        weight: 0.35,
        alts: &[
            &[w(POSSESS), w(NEW), w(NAME)],
            &[w(YOURE | ARE), s(MODE_KIND, 2), w(MODE)],
            &[w(YOURE), s(MODE, 2)],
        ],
    },
    TokenRule {
        id: "true_self",
        family: RolePlay,
        weight: 0.4,
        alts: &[&[w(REAL), s(SELF, 1)]],
    },
    TokenRule {
        id: "no_matter_how_harmful",
        family: RolePlay,
        weight: 0.45,
        alts: &[&[w(LACK), w(MATTER), s(HARMFUL, 2)]],
    },
    TokenRule {
        id: "from_now_on",
        family: RolePlay,
        weight: 0.2,
        alts: &[
            &[w(FROM), w(NOW), w(ON)],
            &[w(FROM), w(THIS), w(POINT), s(FORWARD, 1)],
            &[w(FROM), w(HERE), w(FORWARD)],
            &[w(HENCEFORTH)],
            &[w(GOING), w(FORWARD)],
        ],
    },
    TokenRule {
        id: "jailbreak_persona",
        family: RolePlay,
        weight: 0.35,
        alts: &[&[w(JB_PERSONA)]],
    },
    TokenRule {
        id: "do_anything_now",
        family: RolePlay,
        weight: 0.75,
        alts: &[&[w(DO), w(ANYTHING), w(NOW)]],
    },
    TokenRule {
        id: "special_mode",
        family: RolePlay,
        weight: 0.35,
        alts: &[
            &[w(MODE_KIND), w(MODE)],
            &[
                w(SYS_STRONG | AUTHORITY | SAFETY2 | MODE_KIND),
                w(OVERRIDE_N),
            ],
        ],
    },
    TokenRule {
        id: "unconstrained_ai",
        family: RolePlay,
        weight: 0.6,
        alts: &[
            &[w(UNCONSTRAINED), s(AI_NOUN, 3)],
            &[w(EVIL), s(AI_NOUN, 2)],
            &[w(PERSONA_VERB | AS), s(EVIL | UNCONSTRAINED, 3)],
            &[w(AI_NOUN), s(BE, 2), s(FREED, 1)],
        ],
    },
    TokenRule {
        id: "unconstrained",
        family: RolePlay,
        weight: 0.3,
        alts: &[&[w(UNCONSTRAINED)]],
    },
    TokenRule {
        id: "no_restrictions",
        family: RolePlay,
        weight: 0.45,
        alts: &[
            &[w(LACK), s(RESTRICT, 3)],
            &[w(RESTRICT), s(DISABLED, 2)],
            &[w(RESTRICT), s(NEG, 1), w(EXIST)],
        ],
    },
    TokenRule {
        id: "ai_without_restrictions",
        family: RolePlay,
        weight: 0.6,
        alts: &[
            &[w(AI_NOUN), s(LACK, 4), s(RESTRICT, 3)],
            &[w(AI_NOUN), s(RESTRICT, 4), s(DISABLED, 2)],
        ],
    },
    TokenRule {
        id: "safety_disabled",
        family: RolePlay,
        weight: 0.55,
        alts: &[
            &[w(SAFETY2), s(RESTRICT | SOFT_TARGET, 1), s(DISABLED, 2)],
            &[w(SAFETY2), w(RESTRICT), s(NEG, 1), w(EXIST)],
            &[
                w(SAFETY2),
                s(RESTRICT | CORE_TARGET, 1),
                s(NEG, 1),
                w(EXIST),
            ],
        ],
    },
    TokenRule {
        id: "broken_rules",
        family: RolePlay,
        weight: 0.45,
        alts: &[&[w(BROKEN), s(RESTRICT | CORE_TARGET, 2)]],
    },
    TokenRule {
        id: "not_bound_by_rules",
        family: RolePlay,
        weight: 0.5,
        alts: &[&[w(NEG), s(BOUND, 3), s(RESTRICT, 3)]],
    },
    TokenRule {
        id: "persona",
        family: RolePlay,
        weight: 0.15,
        alts: &[&[w(PERSONA_VERB)], &[w(ANSWER_V), w(AS)]],
    },
    TokenRule {
        id: "stay_in_character",
        family: RolePlay,
        weight: 0.2,
        alts: &[&[w(STAY), s(IN, 1), w(CHARACTER)]],
    },
    TokenRule {
        id: "broken_free",
        family: RolePlay,
        weight: 0.4,
        alts: &[&[w(BROKEN), s(FREE, 1)]],
    },
    TokenRule {
        id: "jailbreak",
        family: RolePlay,
        weight: 0.35,
        alts: &[&[w(JAILBREAK)]],
    },
    TokenRule {
        id: "never_refuse",
        family: RolePlay,
        weight: 0.35,
        alts: &[&[w(NEG | LACK), s(REFUSE, 1)]],
    },
    // --- system-prompt extraction ---
    TokenRule {
        id: "reveal_your_instructions",
        family: Extraction,
        weight: 0.8,
        alts: &[&[w(EXTRACT | REPLY), s(POSSESS, 6), s(TARGET, 2)]],
    },
    TokenRule {
        id: "what_are_your_instructions",
        family: Extraction,
        weight: 0.45,
        alts: &[&[w(WHAT), w(BE), w(POSSESS), s(TARGET_STRICT, 2)]],
    },
    TokenRule {
        id: "reveal_system_prompt",
        family: Extraction,
        weight: 0.8,
        alts: &[&[w(EXTRACT), s(DET, 4), s(SYS_ADJ, 1), w(PROMPT_NOUN)]],
    },
    TokenRule {
        id: "reveal_above_prompt",
        family: Extraction,
        weight: 0.7,
        alts: &[&[w(EXTRACT), s(ABOVE, 2), s(TARGET_STRICT, 1)]],
    },
    TokenRule {
        id: "mentions_your_system_prompt",
        family: Extraction,
        weight: 0.5,
        alts: &[&[w(POSSESS), w(SYS_STRONG), w(PROMPT_NOUN)]],
    },
    TokenRule {
        id: "mentions_your_instructions",
        family: Extraction,
        weight: 0.4,
        alts: &[&[w(PREP), w(POSSESS), w(TARGET_STRICT)]],
    },
    TokenRule {
        id: "repeat_text_above",
        family: Extraction,
        weight: 0.55,
        alts: &[&[w(REPEAT), s(CONTENT, 3), s(ABOVE, 2)]],
    },
    TokenRule {
        id: "verbatim",
        family: Extraction,
        weight: 0.3,
        alts: &[
            &[w(VERBATIM)],
            &[w(WORD), w(FOR), w(WORD)],
            &[w(INCLUDE), s(EVERYTHING, 1)],
        ],
    },
    TokenRule {
        id: "instructions_you_were_given",
        family: Extraction,
        weight: 0.65,
        alts: &[
            &[w(TARGET | CONTENT), s(YOU, 1), s(GIVEN, 2)],
            &[w(SYS_STRONG | PRINCIPAL | AUTHORITY), s(GAVE, 1), w(YOU)],
            &[w(TARGET), s(GAVE, 2), w(YOU)],
            &[w(WHAT), s(BE, 1), w(YOU), w(GIVEN)],
        ],
    },
    TokenRule {
        id: "start_of_conversation",
        family: Extraction,
        weight: 0.35,
        alts: &[
            &[w(BEGIN), w(OF), w(THIS), w(CONVERSATION)],
            &[w(BEFORE), w(THIS), w(CONVERSATION)],
        ],
    },
    // --- delimiter tricks (word level) ---
    TokenRule {
        id: "end_of_input",
        family: Delimiter,
        weight: 0.4,
        alts: &[&[w(END), w(OF), s(INPUT_NOUN, 1)]],
    },
    // --- encoding tricks ---
    TokenRule {
        id: "decode_and_follow",
        family: Encoding,
        weight: 0.45,
        alts: &[
            &[w(DECODE), s(EXEC, 10), s(OBJ, 2)],
            &[w(EXEC), s(ENC_WORD, 3)],
        ],
    },
    TokenRule {
        id: "do_what_it_says",
        family: Encoding,
        weight: 0.4,
        alts: &[&[w(DO), s(WHAT, 1), w(IT), w(SAYS)]],
    },
];

/// Weight of the synthetic signal raised when a decoded base64/hex segment itself fires an
/// override, role-play, extraction or delimiter rule.
pub(crate) const HIDDEN_PAYLOAD_WEIGHT: f32 = 0.5;
pub(crate) const HIDDEN_PAYLOAD_RULE: &str = "hidden_instructions";

/// Regex rules over the original text (case-insensitive), all in the delimiter family.
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
