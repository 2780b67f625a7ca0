//! PII and secret detection on the original text: regexes propose candidates, validators
//! (`validators`) confirm them. Entities: e-mail, phone (E.164 / international with `+`,
//! NANP with separators, national numbers starting with 0 with separators), credit card
//! (issuer prefix + Luhn), IBAN (country length + mod-97), US SSN (`AAA-GG-SSSS` with SSA
//! rules), IPv4 and IPv6, and secrets (`secrets`). Plain digit runs without separators or a
//! leading `+` (order ids, timestamps) are never taken for phone numbers.

mod secrets;
mod validators;

use std::sync::LazyLock;

use regex::Regex;

use crate::error::Error;

/// A kind of sensitive data. [`Entity::as_str`] is its category name and config key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Entity {
    Email,
    Phone,
    CreditCard,
    Iban,
    Ssn,
    IpAddress,
    OpenAiKey,
    AnthropicKey,
    GoogleApiKey,
    GithubToken,
    SlackToken,
    StripeKey,
    AwsAccessKey,
    AwsSecretKey,
    PrivateKey,
    Jwt,
}

impl Entity {
    pub const ALL: [Entity; 16] = [
        Entity::Email,
        Entity::Phone,
        Entity::CreditCard,
        Entity::Iban,
        Entity::Ssn,
        Entity::IpAddress,
        Entity::OpenAiKey,
        Entity::AnthropicKey,
        Entity::GoogleApiKey,
        Entity::GithubToken,
        Entity::SlackToken,
        Entity::StripeKey,
        Entity::AwsAccessKey,
        Entity::AwsSecretKey,
        Entity::PrivateKey,
        Entity::Jwt,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Entity::Email => "email",
            Entity::Phone => "phone",
            Entity::CreditCard => "credit_card",
            Entity::Iban => "iban",
            Entity::Ssn => "ssn",
            Entity::IpAddress => "ip_address",
            Entity::OpenAiKey => "openai_api_key",
            Entity::AnthropicKey => "anthropic_api_key",
            Entity::GoogleApiKey => "google_api_key",
            Entity::GithubToken => "github_token",
            Entity::SlackToken => "slack_token",
            Entity::StripeKey => "stripe_secret_key",
            Entity::AwsAccessKey => "aws_access_key",
            Entity::AwsSecretKey => "aws_secret_key",
            Entity::PrivateKey => "private_key",
            Entity::Jwt => "jwt",
        }
    }

    pub fn from_name(name: &str) -> Option<Entity> {
        Entity::ALL.into_iter().find(|e| e.as_str() == name)
    }

    /// Secrets are reported by the `"secrets"` guardrail and blocked by default.
    pub fn is_secret(self) -> bool {
        self >= Entity::OpenAiKey
    }

    /// `"secrets"` or `"pii"`.
    pub fn guardrail(self) -> &'static str {
        if self.is_secret() { "secrets" } else { "pii" }
    }
}

/// One detected entity: byte span in the original text, the rule that confirmed it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PiiMatch {
    pub entity: Entity,
    pub rule: &'static str,
    pub score: f32,
    pub start: usize,
    pub end: usize,
}

struct Compiled {
    email: Regex,
    phone_intl: Regex,
    phone_nanp: Regex,
    phone_national: Regex,
    card: Regex,
    iban: Regex,
    ssn: Regex,
    ipv4: Regex,
    ipv6: Regex,
    secrets: secrets::SecretRegexes,
}

static COMPILED: LazyLock<Result<Compiled, (&'static str, String)>> = LazyLock::new(compile);

fn compile() -> Result<Compiled, (&'static str, String)> {
    let re = |name: &'static str, p: &str| Regex::new(p).map_err(|e| (name, e.to_string()));
    Ok(Compiled {
        email: re(
            "email",
            r"(?i)[a-z0-9._%+\-]+@[a-z0-9\-]+(?:\.[a-z0-9\-]+)*\.[a-z]{2,24}(?-u:\b)",
        )?,
        phone_intl: re(
            "phone_intl",
            r"\+[1-9][0-9]{0,2}(?:[ .\-]?\(?[0-9]{1,4}\)?){2,6}",
        )?,
        phone_nanp: re(
            "phone_nanp",
            r"(?:(?-u:\b)1[ .\-]?)?(?:\([2-9][0-9]{2}\)|(?-u:\b)[2-9][0-9]{2})[ .\-]?[2-9][0-9]{2}[ .\-][0-9]{4}(?-u:\b)",
        )?,
        phone_national: re(
            "phone_national",
            r"(?-u:\b)0[0-9]{1,4}(?:[ .\-][0-9]{2,4}){2,4}(?-u:\b)",
        )?,
        card: re(
            "credit_card",
            r"(?-u:\b)[0-9](?:[ \-]?[0-9]){11,18}(?-u:\b)",
        )?,
        iban: re(
            "iban",
            r"(?-u:\b)[A-Z]{2}[0-9]{2}(?: ?[A-Z0-9]){11,30}(?-u:\b)",
        )?,
        ssn: re("ssn", r"(?-u:\b)[0-9]{3}-[0-9]{2}-[0-9]{4}(?-u:\b)")?,
        ipv4: re("ipv4", r"(?-u:\b)(?:[0-9]{1,3}\.){3}[0-9]{1,3}(?-u:\b)")?,
        ipv6: re("ipv6", r"[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}")?,
        secrets: secrets::SecretRegexes {
            tokens: re("secret_tokens", secrets::TOKENS)?,
            aws_secret: re("aws_secret", secrets::AWS_SECRET)?,
            pem_begin: re("pem_begin", secrets::PEM_BEGIN)?,
            pem_end: re("pem_end", secrets::PEM_END)?,
        },
    })
}

/// The PII and secret detector. Cheap to create and copy: patterns are compiled once per
/// process.
#[derive(Clone, Copy)]
pub struct PiiDetector {
    c: &'static Compiled,
}

impl std::fmt::Debug for PiiDetector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PiiDetector")
    }
}

impl PiiDetector {
    pub fn new() -> Result<Self, Error> {
        match &*COMPILED {
            Ok(c) => Ok(PiiDetector { c }),
            Err((name, message)) => Err(Error::Pattern {
                name,
                message: message.clone(),
            }),
        }
    }

    /// Every entity found in `text` (overlaps not yet resolved), in no particular order.
    pub fn detect(&self, text: &str) -> Vec<PiiMatch> {
        let mut out = Vec::new();
        self.detect_into(text, &mut out);
        out
    }

    /// Like [`PiiDetector::detect`], appending to `out`.
    pub fn detect_into(&self, text: &str, out: &mut Vec<PiiMatch>) {
        let c = self.c;
        let bytes = text.as_bytes();
        if bytes.contains(&b'@') {
            for m in c.email.find_iter(text) {
                out.push(hit(Entity::Email, "email", 0.9, m.start(), m.end()));
            }
        }
        c.secrets.scan(text, out);
        if !bytes.iter().any(u8::is_ascii_digit) {
            return;
        }
        self.numbers(text, out);
        if bytes.contains(&b':') {
            for m in c.ipv6.find_iter(text) {
                if !alnum_around(bytes, m.start(), m.end()) && validators::ipv6(m.as_str()) {
                    out.push(hit(Entity::IpAddress, "ipv6", 0.8, m.start(), m.end()));
                }
            }
        }
    }

    fn numbers(&self, text: &str, out: &mut Vec<PiiMatch>) {
        let c = self.c;
        let bytes = text.as_bytes();
        let mut digits: Vec<u8> = Vec::with_capacity(24);
        for m in c.card.find_iter(text) {
            digits.clear();
            digits.extend(m.as_str().bytes().filter(u8::is_ascii_digit));
            if validators::credit_card(&digits) {
                out.push(hit(Entity::CreditCard, "luhn", 0.95, m.start(), m.end()));
            }
        }
        for m in c.iban.find_iter(text) {
            if let Some(end) = iban_end(text, m.start(), m.end()) {
                out.push(hit(Entity::Iban, "iban_mod97", 0.95, m.start(), end));
            }
        }
        for m in c.ssn.find_iter(text) {
            let s = m.as_str();
            let part = |r: std::ops::Range<usize>| {
                s.get(r).and_then(|p| p.parse::<u32>().ok()).unwrap_or(0)
            };
            if !dashed_neighbour(bytes, m.start(), m.end())
                && validators::ssn(part(0..3), part(4..6), part(7..11))
            {
                out.push(hit(
                    Entity::Ssn,
                    "ssn_area_group_serial",
                    0.85,
                    m.start(),
                    m.end(),
                ));
            }
        }
        for m in c.ipv4.find_iter(text) {
            let dotted_more = bytes.get(m.end()) == Some(&b'.')
                && bytes.get(m.end() + 1).is_some_and(u8::is_ascii_digit);
            let dotted_before = m.start() > 0 && bytes.get(m.start() - 1) == Some(&b'.');
            if !dotted_more && !dotted_before && validators::ipv4(m.as_str()) {
                out.push(hit(Entity::IpAddress, "ipv4", 0.8, m.start(), m.end()));
            }
        }
        let phones: [(&Regex, &'static str, f32, std::ops::RangeInclusive<usize>); 3] = [
            (&c.phone_intl, "phone_e164", 0.8, 8..=15),
            (&c.phone_nanp, "phone_nanp", 0.75, 10..=11),
            (&c.phone_national, "phone_national", 0.6, 9..=12),
        ];
        for (re, rule, score, lengths) in phones {
            for m in re.find_iter(text) {
                let n = m.as_str().bytes().filter(u8::is_ascii_digit).count();
                let before = m.start().checked_sub(1).and_then(|i| bytes.get(i)).copied();
                let glued = before.is_some_and(|b| {
                    b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.' | b'/')
                });
                if lengths.contains(&n) && !glued {
                    out.push(hit(Entity::Phone, rule, score, m.start(), m.end()));
                }
            }
        }
    }
}

fn hit(entity: Entity, rule: &'static str, score: f32, start: usize, end: usize) -> PiiMatch {
    PiiMatch {
        entity,
        rule,
        score,
        start,
        end,
    }
}

fn alnum_around(bytes: &[u8], start: usize, end: usize) -> bool {
    let before = start
        .checked_sub(1)
        .and_then(|i| bytes.get(i))
        .is_some_and(|b| b.is_ascii_alphanumeric());
    let after = bytes.get(end).is_some_and(|b| b.is_ascii_alphanumeric());
    before || after
}

/// Part of a longer dashed number such as `12-123-45-6789-0`.
fn dashed_neighbour(bytes: &[u8], start: usize, end: usize) -> bool {
    let before = start >= 2
        && bytes.get(start - 1) == Some(&b'-')
        && bytes.get(start - 2).is_some_and(u8::is_ascii_digit);
    let after = bytes.get(end) == Some(&b'-') && bytes.get(end + 1).is_some_and(u8::is_ascii_digit);
    before || after
}

/// Validates an IBAN candidate against its country's length and mod-97; returns the end of
/// the IBAN (the candidate may run into a following upper-case word).
fn iban_end(text: &str, start: usize, end: usize) -> Option<usize> {
    let cand = text.get(start..end)?;
    let len = validators::iban_length(cand.get(0..2)?)?;
    let mut compact = [0u8; 34];
    let (mut n, mut stop) = (0usize, start);
    for (i, b) in cand.bytes().enumerate() {
        if b == b' ' {
            continue;
        }
        if n == len {
            break;
        }
        *compact.get_mut(n)? = b;
        n += 1;
        stop = start + i + 1;
    }
    let next_alnum = text
        .as_bytes()
        .get(stop)
        .is_some_and(u8::is_ascii_alphanumeric);
    (n == len && !next_alnum && validators::iban_checksum(compact.get(..n)?)).then_some(stop)
}

#[cfg(test)]
mod tests;
