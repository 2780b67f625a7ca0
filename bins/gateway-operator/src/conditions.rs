//! Status conditions in the shape of `metav1.Condition`: a condition's
//! `lastTransitionTime` moves only when its status changes.

use crate::crd::Condition;

/// The time now, RFC 3339 to the second (UTC).
pub fn now() -> String {
    k8s_openapi::jiff::Timestamp::now()
        .strftime("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

/// Sets condition `type_` in `list` (adds it, or updates it in place).
pub fn set(
    list: &mut Vec<Condition>,
    type_: &str,
    status: bool,
    reason: &str,
    message: impl Into<String>,
    generation: Option<i64>,
) {
    let status = if status { "True" } else { "False" };
    let message = message.into();
    match list.iter_mut().find(|c| c.type_ == type_) {
        Some(c) => {
            if c.status != status {
                c.last_transition_time = now();
            }
            c.status = status.to_owned();
            c.reason = reason.to_owned();
            c.message = message;
            c.observed_generation = generation;
        }
        None => list.push(Condition {
            type_: type_.to_owned(),
            status: status.to_owned(),
            reason: reason.to_owned(),
            message,
            last_transition_time: now(),
            observed_generation: generation,
        }),
    }
}

/// The status of condition `type_` (`True`/`False`), if set.
pub fn status_of<'a>(list: &'a [Condition], type_: &str) -> Option<&'a str> {
    list.iter()
        .find(|c| c.type_ == type_)
        .map(|c| c.status.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transition_time_moves_only_on_a_change_of_status() {
        let mut list = Vec::new();
        set(&mut list, "Ready", true, "InSync", "ok", Some(1));
        list[0].last_transition_time = "2020-01-01T00:00:00Z".to_owned();
        set(&mut list, "Ready", true, "InSync", "still ok", Some(2));
        assert_eq!(list[0].last_transition_time, "2020-01-01T00:00:00Z");
        assert_eq!(list[0].observed_generation, Some(2));
        set(
            &mut list,
            "Ready",
            false,
            "GatewayUnavailable",
            "down",
            Some(2),
        );
        assert_ne!(list[0].last_transition_time, "2020-01-01T00:00:00Z");
        assert_eq!(status_of(&list, "Ready"), Some("False"));
        assert_eq!(list.len(), 1);
    }
}
