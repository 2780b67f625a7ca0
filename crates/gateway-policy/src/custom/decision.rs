//! The decision document a policy returns, and what it does to a request.

use std::sync::Arc;

use serde::Deserialize;

use gateway_core::types::ChatRequest;
use gateway_core::{DeniedBy, GatewayError, RequestContext};

/// The value of the policy's query: either a boolean (allow or deny) or an object
/// `{"allow": bool, "reason"?: str, "rule"?: str, "region"?: str | [str], "model"?: str}`.
/// Unknown keys are an error (a misspelt `region` must not silently pin nothing).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Decision {
    pub allow: bool,
    pub reason: Option<String>,
    pub rule: Option<String>,
    /// Regions to pin the request to (intersected with the caller's own).
    pub regions: Option<Vec<String>>,
    /// Public model to move the request to.
    pub model: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Doc {
    allow: bool,
    #[serde(default)]
    reason: Option<String>,
    #[serde(default)]
    rule: Option<String>,
    #[serde(default)]
    region: Option<OneOrMany>,
    #[serde(default)]
    model: Option<String>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl Decision {
    /// Reads a decision from the query's value; `None` is an undefined value (no rule
    /// produced one), which is a denial: policies fail closed.
    pub fn from_value(value: Option<serde_json::Value>) -> Result<Decision, String> {
        let Some(value) = value else {
            return Ok(Decision {
                allow: false,
                reason: Some("no policy rule produced a decision".to_owned()),
                ..Decision::default()
            });
        };
        match value {
            serde_json::Value::Bool(allow) => Ok(Decision {
                allow,
                ..Decision::default()
            }),
            value @ serde_json::Value::Object(_) => {
                let doc: Doc = serde_json::from_value(value)
                    .map_err(|e| format!("the decision must be {{\"allow\": bool, ...}}: {e}"))?;
                Ok(Decision {
                    allow: doc.allow,
                    reason: doc.reason,
                    rule: doc.rule,
                    regions: doc.region.map(|r| match r {
                        OneOrMany::One(s) => vec![s],
                        OneOrMany::Many(v) => v,
                    }),
                    model: doc.model,
                })
            }
            other => Err(format!(
                "the decision must be a boolean or an object, got {other}"
            )),
        }
    }

    /// Applies the decision: a denial becomes `403` naming the rule and reason; region pins
    /// narrow `ctx.constraints.regions`; a model change rewrites `req.model`.
    pub fn apply(
        self,
        ctx: &mut RequestContext,
        req: &mut ChatRequest,
    ) -> Result<(), GatewayError> {
        if !self.allow {
            let named = self
                .rule
                .as_ref()
                .map(|r| format!(" (rule '{r}')"))
                .unwrap_or_default();
            let reason = self
                .reason
                .map(|r| format!(": {r}"))
                .unwrap_or_else(|| ".".to_owned());
            return Err(GatewayError::forbidden(
                DeniedBy::Policy { rule: self.rule },
                format!("Request denied by policy{named}{reason}"),
            ));
        }
        if let Some(pinned) = self.regions {
            let narrowed: Vec<String> = match ctx.constraints.regions.as_deref() {
                None => pinned,
                Some(current) => pinned.into_iter().filter(|r| current.contains(r)).collect(),
            };
            ctx.constraints.regions = Some(Arc::from(narrowed));
        }
        if let Some(model) = self.model {
            req.model = model;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use gateway_core::{Endpoint, Principal};
    use serde_json::json;

    #[test]
    fn booleans_objects_and_undefined() {
        let from = |v| Decision::from_value(Some(v));
        assert!(from(json!(true)).unwrap().allow);
        assert!(!Decision::from_value(None).unwrap().allow);
        let d = from(json!({"allow": true, "region": "eu", "model": "small"}));
        assert_eq!(d.unwrap().regions, Some(vec!["eu".to_owned()]));
        assert!(from(json!({"allow": true, "regoin": "eu"})).is_err());
        assert!(from(json!({"reason": "x"})).is_err());
        assert!(from(json!(3)).is_err());
    }

    #[test]
    fn regions_only_narrow() {
        let mut p = Principal::anonymous();
        p.allowed_regions = Some(Arc::from(vec!["eu".to_owned(), "us".to_owned()]));
        let mut ctx = RequestContext::new("r", p, Endpoint::ChatCompletions);
        let mut req = ChatRequest::default();
        let d = Decision {
            allow: true,
            regions: Some(vec!["us".into(), "ap".into()]),
            model: Some("small".into()),
            ..Decision::default()
        };
        d.apply(&mut ctx, &mut req).unwrap();
        assert_eq!(
            ctx.constraints.regions.as_deref(),
            Some(&["us".to_owned()][..])
        );
        assert_eq!(req.model, "small");
        let deny = Decision {
            rule: Some("office_hours".into()),
            reason: Some("outside office hours".into()),
            ..Decision::default()
        };
        let err = deny.apply(&mut ctx, &mut req).unwrap_err();
        assert_eq!(err.status(), 403);
        assert!(
            matches!(&err, GatewayError::Forbidden(d)
                if d.by == DeniedBy::Policy { rule: Some("office_hours".into()) }),
            "{err:?}"
        );
        assert_eq!(
            err.to_string(),
            "Request denied by policy (rule 'office_hours'): outside office hours"
        );
    }
}
