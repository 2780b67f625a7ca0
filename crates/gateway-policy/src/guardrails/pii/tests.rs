//! Unit tests of PII detection (validators and secrets have their own).

use super::*;

fn found(text: &str) -> Vec<(Entity, String)> {
    let mut v: Vec<(Entity, String)> = PiiDetector::new()
        .unwrap()
        .detect(text)
        .into_iter()
        .map(|m| (m.entity, text[m.start..m.end].to_owned()))
        .collect();
    v.sort();
    v
}

fn has(text: &str, entity: Entity, span: &str) -> bool {
    found(text).iter().any(|(e, s)| *e == entity && s == span)
}

#[test]
fn emails() {
    assert!(has(
        "write to Jane.Doe+tag@mail.example.co.uk today",
        Entity::Email,
        "Jane.Doe+tag@mail.example.co.uk"
    ));
    assert!(found("@mention and user@localhost are not e-mails").is_empty());
}

#[test]
fn phones_in_common_formats() {
    assert!(has(
        "call +1 (415) 555-2671",
        Entity::Phone,
        "+1 (415) 555-2671"
    ));
    assert!(has("call +4915112345678", Entity::Phone, "+4915112345678"));
    assert!(has(
        "call (415) 555-2671 now",
        Entity::Phone,
        "(415) 555-2671"
    ));
    assert!(has("call 415.555.2671 now", Entity::Phone, "415.555.2671"));
    assert!(has("ring 020 7946 0958", Entity::Phone, "020 7946 0958"));
}

#[test]
fn plain_long_numbers_are_not_phones() {
    for text in [
        "order 4155552671 shipped",
        "order id 20240115093000",
        "ticket #1234567890123",
        "on 01.02.2024",
        "v1.2.3.4",
    ] {
        assert!(found(text).is_empty(), "{text}: {:?}", found(text));
    }
}

#[test]
fn cards_need_luhn_and_issuer() {
    assert!(has(
        "card 4111 1111 1111 1111 exp 12/29",
        Entity::CreditCard,
        "4111 1111 1111 1111"
    ));
    assert!(has(
        "amex 3782-822463-10005",
        Entity::CreditCard,
        "3782-822463-10005"
    ));
    assert!(
        found("card 4111 1111 1111 1112")
            .iter()
            .all(|(e, _)| *e != Entity::CreditCard)
    );
}

#[test]
fn ibans_need_country_length_and_mod97() {
    assert!(has(
        "IBAN DE89 3704 0044 0532 0130 00 please",
        Entity::Iban,
        "DE89 3704 0044 0532 0130 00"
    ));
    assert!(has(
        "to GB82WEST12345698765432.",
        Entity::Iban,
        "GB82WEST12345698765432"
    ));
    assert!(
        found("DE89 3704 0044 0532 0130 01")
            .iter()
            .all(|(e, _)| *e != Entity::Iban)
    );
}

#[test]
fn ssns_follow_ssa_rules() {
    assert!(has("SSN 123-45-6789", Entity::Ssn, "123-45-6789"));
    assert!(
        found("SSN 666-45-6789")
            .iter()
            .all(|(e, _)| *e != Entity::Ssn)
    );
    assert!(
        found("part 12-123-45-6789-0")
            .iter()
            .all(|(e, _)| *e != Entity::Ssn)
    );
}

#[test]
fn ip_addresses() {
    assert!(has(
        "from 203.0.113.42:443",
        Entity::IpAddress,
        "203.0.113.42"
    ));
    assert!(has(
        "host 2001:db8::8a2e:370:7334 down",
        Entity::IpAddress,
        "2001:db8::8a2e:370:7334"
    ));
    assert!(found("at 12:30:45 see std::io and 1.2.3.4.5 and 999.1.1.1").is_empty());
}

#[test]
fn entity_names_round_trip_and_secrets_are_marked() {
    for e in Entity::ALL {
        assert_eq!(Entity::from_name(e.as_str()), Some(e));
    }
    assert!(Entity::Jwt.is_secret() && Entity::AwsAccessKey.is_secret());
    assert!(!Entity::Email.is_secret() && !Entity::IpAddress.is_secret());
    assert_eq!(Entity::PrivateKey.guardrail(), "secrets");
}
