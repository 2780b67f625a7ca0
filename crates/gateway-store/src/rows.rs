//! Reading rows of either backend, and the encodings shared by both (JSON lists, limits,
//! millisecond times).

use std::time::SystemTime;

use gateway_core::GatewayRole;
use gateway_core::store::{Limits, from_unix_millis};
use sqlx::Row;
use sqlx::postgres::PgRow;
use sqlx::sqlite::SqliteRow;

use crate::error::StoreError;

/// Typed column access with the same shape on both backends.
pub(crate) trait RowExt {
    fn text(&self, col: &str) -> Result<String, StoreError>;
    fn opt_text(&self, col: &str) -> Result<Option<String>, StoreError>;
    fn int(&self, col: &str) -> Result<i64, StoreError>;
    fn opt_int(&self, col: &str) -> Result<Option<i64>, StoreError>;
    fn float(&self, col: &str) -> Result<f64, StoreError>;
    fn opt_float(&self, col: &str) -> Result<Option<f64>, StoreError>;
    fn flag(&self, col: &str) -> Result<bool, StoreError>;

    fn uint(&self, col: &str) -> Result<u64, StoreError> {
        let v = self.int(col)?;
        u64::try_from(v).map_err(|_| StoreError::Corrupt(format!("{col} is negative")))
    }

    fn opt_uint(&self, col: &str) -> Result<Option<u64>, StoreError> {
        self.opt_int(col)?
            .map(|v| {
                u64::try_from(v).map_err(|_| StoreError::Corrupt(format!("{col} is negative")))
            })
            .transpose()
    }

    fn time(&self, col: &str) -> Result<SystemTime, StoreError> {
        self.int(col).map(from_unix_millis)
    }

    fn opt_time(&self, col: &str) -> Result<Option<SystemTime>, StoreError> {
        Ok(self.opt_int(col)?.map(from_unix_millis))
    }

    fn limits(&self) -> Result<Limits, StoreError> {
        Ok(Limits {
            rpm: self.opt_uint("rpm")?,
            tpm: self.opt_uint("tpm")?,
            max_concurrency: self
                .opt_uint("max_concurrency")?
                .map(|v| {
                    u32::try_from(v).map_err(|_| {
                        StoreError::Corrupt("max_concurrency is out of range".to_owned())
                    })
                })
                .transpose()?,
            budget_usd_daily: self.opt_float("budget_usd_daily")?,
            budget_usd_monthly: self.opt_float("budget_usd_monthly")?,
            rps: self.opt_uint("rps")?,
            rpd: self.opt_uint("rpd")?,
            tpd: self.opt_uint("tpd")?,
        })
    }
}

macro_rules! impl_row_ext {
    ($row:ty) => {
        impl RowExt for $row {
            fn text(&self, col: &str) -> Result<String, StoreError> {
                Ok(self.try_get(col)?)
            }
            fn opt_text(&self, col: &str) -> Result<Option<String>, StoreError> {
                Ok(self.try_get(col)?)
            }
            fn int(&self, col: &str) -> Result<i64, StoreError> {
                Ok(self.try_get(col)?)
            }
            fn opt_int(&self, col: &str) -> Result<Option<i64>, StoreError> {
                Ok(self.try_get(col)?)
            }
            fn float(&self, col: &str) -> Result<f64, StoreError> {
                Ok(self.try_get(col)?)
            }
            fn opt_float(&self, col: &str) -> Result<Option<f64>, StoreError> {
                Ok(self.try_get(col)?)
            }
            fn flag(&self, col: &str) -> Result<bool, StoreError> {
                Ok(self.try_get(col)?)
            }
        }
    };
}

impl_row_ext!(SqliteRow);
impl_row_ext!(PgRow);

/// Limits as bind values, in the column order `rpm, tpm, max_concurrency, budget_usd_daily,
/// budget_usd_monthly`.
pub(crate) struct LimitBinds {
    pub rpm: Option<i64>,
    pub tpm: Option<i64>,
    pub max_concurrency: Option<i64>,
    pub daily: Option<f64>,
    pub monthly: Option<f64>,
    pub rps: Option<i64>,
    pub rpd: Option<i64>,
    pub tpd: Option<i64>,
}

impl LimitBinds {
    pub(crate) fn of(l: &Limits) -> Self {
        let clamp = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
        LimitBinds {
            rpm: l.rpm.map(clamp),
            tpm: l.tpm.map(clamp),
            max_concurrency: l.max_concurrency.map(i64::from),
            daily: l.budget_usd_daily,
            monthly: l.budget_usd_monthly,
            rps: l.rps.map(clamp),
            rpd: l.rpd.map(clamp),
            tpd: l.tpd.map(clamp),
        }
    }
}

/// `Some(list)` as a JSON array; `None` as NULL.
pub(crate) fn list_to_json(list: Option<&[String]>) -> Option<String> {
    list.map(|l| serde_json::Value::from(l.to_vec()).to_string())
}

pub(crate) fn list_from_json(
    col: &str,
    text: Option<String>,
) -> Result<Option<Vec<String>>, StoreError> {
    text.map(|t| serde_json::from_str(&t).map_err(|e| StoreError::Corrupt(format!("{col}: {e}"))))
        .transpose()
}

pub(crate) fn roles_to_json(roles: &[GatewayRole]) -> String {
    serde_json::Value::from(roles.iter().map(|r| r.as_str()).collect::<Vec<_>>()).to_string()
}

/// Unknown role names (written by a newer version) are dropped, never widened.
pub(crate) fn roles_from_json(text: &str) -> Result<Vec<GatewayRole>, StoreError> {
    let names: Vec<String> =
        serde_json::from_str(text).map_err(|e| StoreError::Corrupt(format!("roles: {e}")))?;
    Ok(names.iter().filter_map(|n| GatewayRole::parse(n)).collect())
}

pub(crate) fn json_from_text(col: &str, text: &str) -> Result<serde_json::Value, StoreError> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt(format!("{col}: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_and_roles_round_trip() {
        let models = vec!["gpt-4o".to_owned(), "claude".to_owned()];
        let text = list_to_json(Some(&models));
        assert_eq!(list_from_json("m", text).unwrap(), Some(models));
        assert_eq!(list_from_json("m", list_to_json(None)).unwrap(), None);
        let roles = [GatewayRole::Admin, GatewayRole::Viewer];
        assert_eq!(roles_from_json(&roles_to_json(&roles)).unwrap(), roles);
        assert_eq!(
            roles_from_json(r#"["developer","superuser"]"#).unwrap(),
            [GatewayRole::Developer]
        );
    }
}
