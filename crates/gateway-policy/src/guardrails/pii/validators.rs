//! Checksums and structural rules that turn a regex candidate into a finding: Luhn and issuer
//! prefixes for cards, mod-97 and country lengths for IBANs, SSA area/group/serial rules for
//! US SSNs, and the standard library's address parsers for IPs.

use std::net::{Ipv4Addr, Ipv6Addr};

/// Luhn checksum over ASCII digits (separators already removed).
pub(crate) fn luhn(digits: &[u8]) -> bool {
    let mut sum = 0u32;
    for (i, d) in digits.iter().rev().enumerate() {
        let mut v = u32::from(d.wrapping_sub(b'0'));
        if v > 9 {
            return false;
        }
        if i % 2 == 1 {
            v *= 2;
            if v > 9 {
                v -= 9;
            }
        }
        sum += v;
    }
    sum.is_multiple_of(10)
}

/// A card number: 13-19 digits of a known issuer range with a valid length, Luhn-valid.
pub(crate) fn credit_card(digits: &[u8]) -> bool {
    let len = digits.len();
    let prefix = |n: usize| -> u32 {
        digits
            .iter()
            .take(n)
            .fold(0u32, |acc, d| acc * 10 + u32::from(d.wrapping_sub(b'0')))
    };
    let (p1, p2, p3, p4, p6) = (prefix(1), prefix(2), prefix(3), prefix(4), prefix(6));
    let issuer_ok = match len {
        _ if p1 == 4 => matches!(len, 13 | 16 | 19), // Visa
        16 if (51..=55).contains(&p2) || (2221..=2720).contains(&p4) => true, // Mastercard
        15 => p2 == 34 || p2 == 37,                  // Amex
        16..=19 if p4 == 6011 || p2 == 65 || (644..=649).contains(&p3) => true, // Discover
        16..=19 if (3528..=3589).contains(&p4) => true, // JCB
        14..=19 if p2 == 36 || p2 == 38 || p2 == 39 || (300..=305).contains(&p3) => true, // Diners
        16..=19 if p2 == 62 => true,                 // UnionPay
        12..=19 if (500_000..=509_999).contains(&p6) || (560_000..=699_999).contains(&p6) => true, // Maestro
        _ => false,
    };
    (13..=19).contains(&len) && issuer_ok && luhn(digits)
}

/// IBAN length by country (ISO 13616 registry, the countries most likely to appear).
pub(crate) fn iban_length(country: &str) -> Option<usize> {
    Some(match country {
        "NO" => 15,
        "BE" => 16,
        "DK" | "FI" | "FO" | "GL" | "NL" => 18,
        "MK" | "SI" => 19,
        "AT" | "BA" | "EE" | "KZ" | "LT" | "LU" | "XK" => 20,
        "CH" | "HR" | "LI" | "LV" => 21,
        "BG" | "BH" | "CR" | "DE" | "GB" | "GE" | "IE" | "ME" | "RS" => 22,
        "AE" | "GI" | "IL" => 23,
        "AD" | "CZ" | "ES" | "MD" | "PK" | "RO" | "SA" | "SE" | "SK" | "TN" | "VG" => 24,
        "PT" => 25,
        "IS" | "TR" => 26,
        "FR" | "GR" | "IT" | "MC" | "MR" | "SM" => 27,
        "AL" | "AZ" | "CY" | "DO" | "GT" | "HU" | "LB" | "PL" => 28,
        "BR" | "EG" | "PS" | "QA" | "UA" => 29,
        "JO" | "KW" | "MU" => 30,
        "MT" => 31,
        _ => return None,
    })
}

/// ISO 7064 mod-97-10 over an IBAN without spaces (uppercase letters and digits).
pub(crate) fn iban_checksum(iban: &[u8]) -> bool {
    if iban.len() < 5 {
        return false;
    }
    let (head, tail) = iban.split_at(4);
    let mut rem = 0u32;
    for &c in tail.iter().chain(head) {
        match c {
            b'0'..=b'9' => rem = (rem * 10 + u32::from(c - b'0')) % 97,
            b'A'..=b'Z' => rem = (rem * 100 + u32::from(c - b'A' + 10)) % 97,
            _ => return false,
        }
    }
    rem == 1
}

/// `AAA-GG-SSSS`: area not 000, 666 or 900-999; group not 00; serial not 0000.
pub(crate) fn ssn(area: u32, group: u32, serial: u32) -> bool {
    area != 0 && area != 666 && area < 900 && group != 0 && serial != 0
}

pub(crate) fn ipv4(s: &str) -> bool {
    s.parse::<Ipv4Addr>().is_ok()
}

/// A parseable IPv6 address with at least two non-empty groups and five hex digits, so that
/// `A::B` in code or `12:30:45` times are not taken for addresses.
pub(crate) fn ipv6(s: &str) -> bool {
    let groups = s.split(':').filter(|g| !g.is_empty()).count();
    let hex = s.bytes().filter(u8::is_ascii_hexdigit).count();
    groups >= 2 && hex >= 5 && s.parse::<Ipv6Addr>().is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn luhn_and_issuers() {
        assert!(credit_card(b"4111111111111111"));
        assert!(credit_card(b"5500005555555559"));
        assert!(credit_card(b"378282246310005"));
        assert!(credit_card(b"6011111111111117"));
        assert!(!credit_card(b"4111111111111112"), "bad checksum");
        assert!(
            !credit_card(b"1234567812345670"),
            "Luhn-valid but no issuer"
        );
    }

    #[test]
    fn iban_mod97() {
        assert!(iban_checksum(b"DE89370400440532013000"));
        assert!(iban_checksum(b"GB82WEST12345698765432"));
        assert!(!iban_checksum(b"DE89370400440532013001"));
        assert_eq!(iban_length("DE"), Some(22));
    }

    #[test]
    fn ssn_rules() {
        assert!(ssn(123, 45, 6789));
        assert!(!ssn(0, 45, 6789));
        assert!(!ssn(666, 45, 6789));
        assert!(!ssn(900, 45, 6789));
        assert!(!ssn(123, 0, 6789));
        assert!(!ssn(123, 45, 0));
    }

    #[test]
    fn ip_addresses() {
        assert!(ipv4("192.168.0.1"));
        assert!(!ipv4("256.1.1.1"));
        assert!(ipv6("2001:db8::8a2e:370:7334"));
        assert!(ipv6("fe80::1ff:fe23:4567:890a"));
        assert!(!ipv6("A::B"));
        assert!(!ipv6("12:30:45"));
    }
}
