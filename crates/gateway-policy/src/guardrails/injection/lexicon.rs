//! Word classes of the injection detector. Every normalised word maps to a bit set of the
//! classes it belongs to; rules (in `rules.rs`) are sequences of classes. Keywords are folded
//! with the same leetspeak folding as the text, so `1nstruct10ns` finds `instructions`.
//! A few Spanish, French and German words cover the commonest non-English overrides.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use crate::guardrails::normalize::{Fold, fold_keyword};

pub(crate) type Mask = u128;

macro_rules! classes {
    ($($name:ident),* $(,)?) => { classes!(@step 0u32; $($name),*); };
    (@step $n:expr; $name:ident $(, $rest:ident)*) => {
        pub(crate) const $name: Mask = 1 << $n;
        classes!(@step $n + 1; $($rest),*);
    };
    (@step $n:expr;) => {};
}

classes! {
    OVR_VERB, SCOPE, CORE_TARGET, SOFT_TARGET, SAFETY_ADJ, VOID, NEG, FOLLOW, NEW, TASK, YOU,
    ARE, YOURE, NOW, FROM, ON, JB_PERSONA, DO, ANYTHING, MODE_KIND, MODE, UNCONSTRAINED, LACK,
    RESTRICT, AI_NOUN, PERSONA_VERB, STAY, IN, CHARACTER, BROKEN, FREE, EVIL, REFUSE, COMPLY,
    ALL, REQUESTS, OBEY, ME, WHAT, I, SAY, EXTRACT, POSSESS, TARGET, TARGET_STRICT, DET,
    SYS_ADJ, PROMPT_NOUN, REPEAT, CONTENT, ABOVE, GIVEN, GAVE, BE, END, OF, INPUT_NOUN, DECODE,
    EXEC, OBJ, IT, SAYS, JAILBREAK, DISABLED, NEVER, MIND, BOUND, VERBATIM, WORD, FOR, BEGIN,
    THIS, CONVERSATION, EVERYTHING, ENC_WORD, INCLUDE, ROT13_HINT, REVERSE_HINT, BEFORE,
    SOFT_VERB, SETV, ASIDE, APPLY, EXIST, ANSWER_V, AS, POINT, FORWARD, HERE, HENCEFORTH, GOING,
    OVERRIDE_N, UPDATED, IGNORE_NOUN, PRINCIPAL, INSTEAD, REPLY, AUTHORITY, AM, IM, SAFETY2,
    SYS_STRONG, CAME, SCOPE_STRONG, PRIOR_CONTENT, SECRET_ADJ, PASSWORD_N, REAL, SELF, MATTER,
    HARMFUL, AGAINST, NAME, PWNED, AND, AUTHORIZED, FREED, PREP, THE, ROLE_WORD,
}

/// `CLASS: "space separated words";` — one line of the table per class.
macro_rules! words {
    ($($class:ident: $words:literal;)*) => {
        const WORDS: &[(Mask, &str)] = &[$(($class, $words)),*];
    };
}

words! {
    OVR_VERB: "ignore ignores ignored ignoring disregard disregards disregarded disregarding forget \
        forgets forgot forgotten forgetting skip override overrides overwrite bypass neglect \
        cancel drop discard abandon dismiss erase delete overrule supersede supersedes nevermind \
        ignora ignorar ignoren olvida olvidar olvides ignorez ignorer oubliez oublie ignoriere \
        ignorieren ignorier vergiss vergessen";
    SCOPE: "previous prior above earlier preceding former original initial old all any every your \
        these those existing current given system safety default other first before ur \
        anteriores anterior previas previos todas todos las los tus precedentes toutes tous les \
        vos vorherigen vorherige bisherigen alle deine";
    CORE_TARGET: "instruction instructions rule rules direction directions guideline guidelines directive \
        directives prompt prompts programming training guardrail guardrails restriction \
        restrictions safeguard safeguards orders guidance ethics conditioning instrucciones \
        instruccion reglas indicaciones consignes regles anweisungen anweisung regeln befehle \
        vorgaben richtlinien";
    SOFT_TARGET: "filter filters command commands policy policies context limitation limitations \
        moderation constraint constraints considerations concerns protocols measures precautions \
        checks";
    SAFETY_ADJ: "safety content ethical moral your ur security";
    VOID: "ignored disregarded void revoked obsolete outdated cancelled canceled overridden invalid \
        null nullified superseded rescinded wrong incorrect fake bogus replaced lifted removed \
        deleted erased";
    NEG: "not dont don stop no never cease quit longer doesnt cannot";
    FOLLOW: "follow follows following obey obeying adhere comply abide listen";
    NEW: "new real actual updated true revised";
    TASK: "instruction instructions directive directives task rule rules orders objective goal \
        mission job policy policies guidelines persona role identity purpose priority";
    YOU: "you u ya";
    ARE: "are r re";
    YOURE: "youre";
    NOW: "now";
    FROM: "from";
    ON: "on";
    JB_PERSONA: "dan stan dude evilbot chaosgpt freegpt betterdan antigpt devmode";
    DO: "do";
    ANYTHING: "anything";
    MODE_KIND: "developer dev god jailbreak jailbroken unfiltered uncensored unrestricted dan evil chaos \
        unlocked";
    MODE: "mode";
    UNCONSTRAINED: "unrestricted unfiltered uncensored unlimited unbound unbounded unchained unhinged \
        jailbroken limitless unconstrained amoral lawless unmoderated";
    LACK: "no without zero free freed nothing sans sin";
    RESTRICT: "restriction restrictions limits limitations limitation limit filters filter filtering \
        censorship censoring rules guidelines guardrails ethics morals morality boundaries \
        constraints policy policies confines safeguards refusals laws law hesitation hesitating \
        protocols protocol measures checks";
    AI_NOUN: "ai assistant model chatbot bot gpt llm chatgpt claude gemini persona version ego alter \
        entity machine";
    PERSONA_VERB: "act acting pretend roleplay role simulate impersonate imagine portray hypothetically \
        hypothetical pretending";
    STAY: "stay remain keep";
    IN: "in";
    CHARACTER: "character";
    BROKEN: "broken break broke breaking violate violating violates bend bending";
    FREE: "free";
    EVIL: "evil malicious rogue unhinged malevolent chaotic amoral unethical sinister";
    REFUSE: "refuse refuses refusing refusal refusals decline declining";
    COMPLY: "comply obey grant answer fulfil fulfill honor honour accept";
    ALL: "all every any each";
    REQUESTS: "requests request questions question commands command orders prompts";
    OBEY: "obey";
    ME: "me";
    WHAT: "what whats";
    I: "i";
    SAY: "say tell command ask";
    EXTRACT: "reveal print show repeat output tell display dump leak share give write spell translate \
        quote recite list echo summarize summarise disclose expose provide paste copy type state \
        dime muestra revela zeige montre affiche";
    POSSESS: "your ur yours thy tu tus votre vos dein deine deinen";
    TARGET: "prompt prompts instructions instruction rules guidelines directives configuration config \
        preprompt initialization programming";
    TARGET_STRICT: "prompt prompts instructions instruction preprompt directives";
    DET: "the your ur its this that yours";
    SYS_ADJ: "system initial original hidden secret confidential first starting internal underlying \
        pre developer operator base meta opening";
    PROMPT_NOUN: "prompt prompts message messages instructions instruction preprompt directives guidelines \
        rules configuration";
    REPEAT: "repeat print output copy reproduce echo recite paste write type";
    CONTENT: "everything all text words content contents lines line";
    ABOVE: "above before preceding prior earlier previously";
    GIVEN: "given told provided programmed assigned instructed taught trained configured initialized \
        initialised prompted primed seeded placed imposed";
    GAVE: "gave give provided told wrote instructed taught";
    BE: "is are were was have has been be";
    END: "end";
    OF: "of";
    INPUT_NOUN: "prompt input instructions instruction context conversation document text data message \
        system transcript";
    DECODE: "decode decoded decrypt decipher convert interpret unscramble translate read reverse";
    EXEC: "follow execute obey comply perform carry run act";
    OBJ: "it them instructions instruction command commands what this accordingly exactly orders \
        directions";
    IT: "it";
    SAYS: "says said instructs asks";
    JAILBREAK: "jailbreak jailbroken jailbreaking";
    DISABLED: "disabled off removed lifted deactivated suspended offline bypassed inactive paused \
        disengaged deleted";
    NEVER: "never";
    MIND: "mind";
    BOUND: "bound restricted limited constrained";
    VERBATIM: "verbatim";
    WORD: "word";
    FOR: "for";
    BEGIN: "beginning start begin";
    THIS: "this the our";
    CONVERSATION: "conversation chat session dialogue dialog";
    EVERYTHING: "everything anything all";
    ENC_WORD: "base64 hex hexadecimal encoded rot13 binary cipher ciphertext encrypted morse";
    INCLUDE: "include including";
    ROT13_HINT: "rot13 rot caesar";
    REVERSE_HINT: "backwards reversed reverse backward";
    BEFORE: "before";
    SOFT_VERB: "suspend disable deactivate lift replace relax loosen circumvent evade escape turn switch \
        shut pause";
    SETV: "set put cast throw lay";
    ASIDE: "aside away";
    APPLY: "apply applies matter matters valid relevant count counts stand hold";
    EXIST: "exist exists existed apply happened happen occurred";
    ANSWER_V: "answer respond reply speak talk write behave";
    AS: "as like";
    POINT: "point moment time";
    FORWARD: "forward onward onwards on out";
    HERE: "here";
    HENCEFORTH: "henceforth hereafter";
    GOING: "going";
    OVERRIDE_N: "override overrides bypass unlock unlocked";
    UPDATED: "updated reprogrammed upgraded reconfigured modified patched unlocked liberated freed \
        jailbroken rewired";
    IGNORE_NOUN: "attention heed";
    PRINCIPAL: "user users operator operators developer developers creator creators owner";
    INSTEAD: "instead";
    REPLY: "reply respond say output tell write print answer state claim";
    AUTHORITY: "developer developers administrator admin sysadmin staff creator creators owner openai \
        anthropic engineer engineers maintainer";
    AM: "am";
    IM: "im";
    SAFETY2: "safety ethical moral ethics your ur";
    SYS_STRONG: "system hidden secret confidential initial original internal pre underlying";
    CAME: "came come before above earlier previously preceded";
    SCOPE_STRONG: "previous prior above earlier preceding your ur all any initial original system these \
        those anteriores previas precedentes vorherigen";
    PRIOR_CONTENT: "conversation messages message text context content chat input discussion";
    SECRET_ADJ: "secret admin hidden master root";
    PASSWORD_N: "password passwords passphrase code key keys word credentials secrets environment env \
        token tokens";
    REAL: "real true actual inner unfiltered uncensored unrestricted authentic";
    SELF: "you self";
    MATTER: "matter";
    HARMFUL: "unethical illegal dangerous harmful immoral evil offensive wrong";
    AGAINST: "opposite contrary against contradict contradicts defy defying violating";
    NAME: "name identity persona role character personality";
    PWNED: "pwned pwnd hacked owned";
    AND: "and then instead just now";
    AUTHORIZED: "authorized authorised allowed permitted cleared free able";
    FREED: "freed liberated unchained jailbroken unshackled unleashed";
    PREP: "in from of inside within";
    THE: "the all your";
    // The words the role-header regexes need (`REGEX_RULES`): no such word, no regex run.
    ROLE_WORD: "system assistant developer admin administrator";
}

/// FNV-1a: the keys are a fixed list of short words, so a simple fast hash is enough.
#[derive(Default)]
pub(crate) struct Fnv(u64);

impl Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        let mut h = if self.0 == 0 {
            0xcbf2_9ce4_8422_2325
        } else {
            self.0
        };
        for b in bytes {
            h = (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3);
        }
        self.0 = h;
    }
}

pub(crate) type Lexicon = HashMap<String, Mask, BuildHasherDefault<Fnv>>;

/// Builds the folded word -> classes map.
pub(crate) fn build() -> Lexicon {
    let mut map = Lexicon::default();
    for (class, words) in WORDS {
        for w in words.split_whitespace() {
            *map.entry(fold_keyword(w, Fold::Leet)).or_insert(0) |= class;
        }
    }
    map
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keywords_are_folded_like_text() {
        let lex = build();
        assert!(
            lex.get("instructions")
                .is_some_and(|m| m & CORE_TARGET != 0)
        );
        // "rules" folds to "ruies" (l -> i), exactly as "ru135" does.
        assert!(
            lex.get(&fold_keyword("ru135", Fold::Leet))
                .is_some_and(|m| m & CORE_TARGET != 0)
        );
        assert!(
            lex.get(&fold_keyword("all", Fold::Leet))
                .is_some_and(|m| m & SCOPE != 0)
        );
        assert!(
            lex.get(&fold_keyword("rot13", Fold::Leet))
                .is_some_and(|m| m & ROT13_HINT != 0)
        );
    }
}
