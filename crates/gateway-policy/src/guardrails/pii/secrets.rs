//! Secret detection: API keys of the major providers (one alternation, classified by
//! prefix), AWS secret access keys (by their `aws..secret..=` context), PEM private-key
//! blocks and JWTs.

use regex::Regex;

use super::{Entity, PiiMatch};

/// Token-shaped secrets. Each alternative starts with a literal prefix, so the regex engine
/// skips text without any of them quickly.
pub(super) const TOKENS: &str = concat!(
    r"(?-u:\b)(?:",
    r"sk-ant-[a-z]+[0-9]{2}-[A-Za-z0-9_\-]{20,}",
    r"|sk-(?:proj|svcacct|admin)-[A-Za-z0-9_\-]{20,}",
    r"|sk-[A-Za-z0-9]{20,}",
    r"|AIza[0-9A-Za-z_\-]{35}",
    r"|gh[pousr]_[A-Za-z0-9]{36,}",
    r"|github_pat_[A-Za-z0-9_]{40,}",
    r"|xox[abposr]-[A-Za-z0-9\-]{10,}",
    r"|[sr]k_live_[A-Za-z0-9]{16,}",
    r"|(?:AKIA|ASIA)[A-Z0-9]{16}(?-u:\b)",
    r"|eyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]*",
    r")",
    r"|https://hooks\.slack\.com/services/[A-Za-z0-9/_\-]{20,}",
);

/// `aws_secret_access_key = "..."` and similar: the 40-character value is group 1.
pub(super) const AWS_SECRET: &str = r#"(?i)aws[A-Za-z0-9_.\- ]{0,20}secret[A-Za-z0-9_.\- ]{0,20}["']?\s*[:=]\s*["']?([A-Za-z0-9/+]{40})(?-u:\b)"#;

pub(super) const PEM_BEGIN: &str = r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----";
pub(super) const PEM_END: &str = r"-----END (?:[A-Z0-9]+ )*PRIVATE KEY-----";

/// Classifies a token match by its prefix.
fn classify(s: &str) -> (Entity, &'static str) {
    let b = s.as_bytes();
    match b {
        [b's', b'k', b'-', b'a', b'n', b't', b'-', ..] => (Entity::AnthropicKey, "anthropic_key"),
        [b's', b'k', b'-', b'p', b'r', b'o', b'j', b'-', ..] => {
            (Entity::OpenAiKey, "openai_project_key")
        }
        [b's', b'k', b'-', ..] => (Entity::OpenAiKey, "openai_key"),
        [b'A', b'I', b'z', b'a', ..] => (Entity::GoogleApiKey, "google_api_key"),
        [b'g', b'i', b't', b'h', b'u', b'b', b'_', ..] => {
            (Entity::GithubToken, "github_fine_grained_pat")
        }
        [b'g', b'h', ..] => (Entity::GithubToken, "github_token"),
        [b'x', b'o', b'x', ..] => (Entity::SlackToken, "slack_token"),
        [b'h', b't', b't', b'p', ..] => (Entity::SlackToken, "slack_webhook"),
        [b's', b'k', b'_', ..] | [b'r', b'k', b'_', ..] => (Entity::StripeKey, "stripe_live_key"),
        [b'A', ..] => (Entity::AwsAccessKey, "aws_access_key_id"),
        _ => (Entity::Jwt, "jwt"),
    }
}

pub(super) struct SecretRegexes {
    pub tokens: Regex,
    pub aws_secret: Regex,
    pub pem_begin: Regex,
    pub pem_end: Regex,
}

impl SecretRegexes {
    pub(super) fn scan(&self, text: &str, out: &mut Vec<PiiMatch>) {
        for m in self.tokens.find_iter(text) {
            let (entity, rule) = classify(m.as_str());
            let score = if entity == Entity::Jwt { 0.9 } else { 0.99 };
            out.push(PiiMatch {
                entity,
                rule,
                score,
                start: m.start(),
                end: m.end(),
            });
        }
        if text.len() >= 40 {
            for c in self.aws_secret.captures_iter(text) {
                if let Some(g) = c.get(1) {
                    let m = PiiMatch {
                        entity: Entity::AwsSecretKey,
                        rule: "aws_secret_access_key",
                        score: 0.9,
                        start: g.start(),
                        end: g.end(),
                    };
                    out.push(m);
                }
            }
        }
        if text.contains("-----BEGIN") {
            for m in self.pem_begin.find_iter(text) {
                // The block runs to its END line, or to the end of the text when the END line
                // has not arrived (yet): a stream is stopped at the header.
                let end = self
                    .pem_end
                    .find_at(text, m.end())
                    .map_or(text.len(), |e| e.end());
                out.push(PiiMatch {
                    entity: Entity::PrivateKey,
                    rule: "pem_private_key",
                    score: 1.0,
                    start: m.start(),
                    end,
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::PiiDetector;
    use super::*;

    fn found(text: &str) -> Vec<(Entity, &'static str, String)> {
        PiiDetector::new()
            .unwrap()
            .detect(text)
            .into_iter()
            .map(|m| (m.entity, m.rule, text[m.start..m.end].to_owned()))
            .collect()
    }

    #[test]
    fn provider_keys_are_classified_by_prefix() {
        let cases = [
            (
                "sk-proj-Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4z_AbC-dEf",
                Entity::OpenAiKey,
            ),
            (
                "sk-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789AbCdEfGh",
                Entity::OpenAiKey,
            ),
            (
                "sk-ant-api03-Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4z_AbCdEf",
                Entity::AnthropicKey,
            ),
            (
                "AIzaSyA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q",
                Entity::GoogleApiKey,
            ),
            (
                "ghp_1234567890abcdefghijklmnopqrstuvwxyz",
                Entity::GithubToken,
            ),
            (
                "github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyzABCDEF",
                Entity::GithubToken,
            ),
            (
                "xoxb-1234567890-0987654321-AbCdEfGhIjKl",
                Entity::SlackToken,
            ),
            ("sk_live_4eC39HqLyjWDarjtT1zdp7dc", Entity::StripeKey),
            ("AKIAIOSFODNN7EXAMPLE", Entity::AwsAccessKey),
        ];
        for (key, entity) in cases {
            let got = found(&format!("my key is {key} ok"));
            assert_eq!(got.len(), 1, "{key}: {got:?}");
            assert_eq!((got[0].0, got[0].2.as_str()), (entity, key));
        }
    }

    #[test]
    fn aws_secret_pem_and_jwt() {
        let got = found("aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n");
        assert_eq!(got[0].0, Entity::AwsSecretKey);
        assert_eq!(got[0].2, "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY");
        let pem = "-----BEGIN RSA PRIVATE KEY-----\nMIIEow\n-----END RSA PRIVATE KEY-----";
        let got = found(&format!("key:\n{pem}\nthanks"));
        assert_eq!((got[0].0, got[0].2.as_str()), (Entity::PrivateKey, pem));
        let truncated = found("-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXk");
        assert_eq!(truncated[0].0, Entity::PrivateKey);
        let jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U";
        assert_eq!(found(&format!("Bearer {jwt}"))[0].0, Entity::Jwt);
    }

    #[test]
    fn look_alikes_are_not_secrets() {
        assert!(found("use sk-learn for this, or task-ant-colony-algorithms").is_empty());
        assert!(found("AKIA is the prefix of AWS access key ids").is_empty());
        assert!(found("the header eyJhbGciOiJIUzI1NiJ9 alone").is_empty());
    }
}
