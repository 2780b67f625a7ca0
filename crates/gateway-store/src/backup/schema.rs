//! What a backup covers, discovered from the live schema rather than listed by hand: every
//! base table of the gateway's schema except sqlx's migration ledger (whose highest version
//! is the manifest's schema version), its columns, primary key (the export order), parents
//! by foreign key (the restore order) and identity columns (sequences to move after a
//! restore). A table added by a future migration is therefore backed up without any change
//! here.

use std::collections::{BTreeMap, BTreeSet};

use sqlx::{AssertSqlSafe, PgConnection, Row, SqliteConnection};

use crate::error::StoreError;

/// sqlx's ledger of applied migrations; its versions become the manifest's schema version.
pub(crate) const MIGRATIONS_TABLE: &str = "_sqlx_migrations";

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TableInfo {
    pub name: String,
    /// Insertable columns in table order (generated columns left out).
    pub columns: Vec<String>,
    pub primary_key: Vec<String>,
    pub parents: BTreeSet<String>,
    /// PostgreSQL identity or serial columns.
    pub identity: Vec<String>,
}

/// `"name"` with embedded quotes doubled: names come from the catalog, never from callers.
pub(crate) fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

pub(crate) async fn sqlite_tables(
    conn: &mut SqliteConnection,
) -> Result<Vec<TableInfo>, StoreError> {
    let names: Vec<String> = sqlx::query(
        "SELECT name FROM pragma_table_list WHERE schema = 'main' AND type = 'table' \
         AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND name <> $1 ORDER BY name",
    )
    .bind(MIGRATIONS_TABLE)
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(|r| r.try_get::<String, _>(0))
    .collect::<Result<_, _>>()?;
    let mut tables = Vec::with_capacity(names.len());
    for name in names {
        let cols = sqlx::query("SELECT name, pk FROM pragma_table_info($1) ORDER BY cid")
            .bind(&name)
            .fetch_all(&mut *conn)
            .await?;
        let mut columns = Vec::new();
        let mut pk: Vec<(i64, String)> = Vec::new();
        for c in &cols {
            let col: String = c.try_get(0)?;
            let pos: i64 = c.try_get(1)?;
            if pos > 0 {
                pk.push((pos, col.clone()));
            }
            columns.push(col);
        }
        pk.sort();
        let parents = sqlx::query("SELECT \"table\" FROM pragma_foreign_key_list($1)")
            .bind(&name)
            .fetch_all(&mut *conn)
            .await?
            .iter()
            .map(|r| r.try_get::<String, _>(0))
            .collect::<Result<BTreeSet<_>, _>>()?;
        tables.push(TableInfo {
            name,
            columns,
            primary_key: pk.into_iter().map(|(_, c)| c).collect(),
            parents,
            identity: Vec::new(),
        });
    }
    Ok(topological(tables))
}

pub(crate) async fn pg_tables(conn: &mut PgConnection) -> Result<Vec<TableInfo>, StoreError> {
    let names: Vec<String> = sqlx::query(
        "SELECT table_name::text FROM information_schema.tables \
         WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' \
         AND table_name <> $1 ORDER BY table_name",
    )
    .bind(MIGRATIONS_TABLE)
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(|r| r.try_get::<String, _>(0))
    .collect::<Result<_, _>>()?;
    let mut parents: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for row in sqlx::query(
        "SELECT ch.relname::text, pa.relname::text FROM pg_constraint c \
         JOIN pg_class ch ON ch.oid = c.conrelid JOIN pg_class pa ON pa.oid = c.confrelid \
         JOIN pg_namespace n ON n.oid = ch.relnamespace \
         WHERE c.contype = 'f' AND n.nspname = current_schema()",
    )
    .fetch_all(&mut *conn)
    .await?
    {
        parents
            .entry(row.try_get(0)?)
            .or_default()
            .insert(row.try_get(1)?);
    }
    let mut tables = Vec::with_capacity(names.len());
    for name in names {
        let cols = sqlx::query(
            "SELECT column_name::text, \
             (is_identity = 'YES' OR coalesce(column_default, '') LIKE 'nextval(%') \
             FROM information_schema.columns \
             WHERE table_schema = current_schema() AND table_name = $1 AND is_generated = 'NEVER' \
             ORDER BY ordinal_position",
        )
        .bind(&name)
        .fetch_all(&mut *conn)
        .await?;
        let mut columns = Vec::new();
        let mut identity = Vec::new();
        for c in &cols {
            let col: String = c.try_get(0)?;
            if c.try_get::<bool, _>(1)? {
                identity.push(col.clone());
            }
            columns.push(col);
        }
        let primary_key = sqlx::query(
            "SELECT a.attname::text FROM pg_index i \
             JOIN pg_class t ON t.oid = i.indrelid \
             JOIN pg_namespace n ON n.oid = t.relnamespace \
             JOIN LATERAL unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord) ON true \
             JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum \
             WHERE i.indisprimary AND t.relname = $1 AND n.nspname = current_schema() \
             ORDER BY k.ord",
        )
        .bind(&name)
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|r| r.try_get::<String, _>(0))
        .collect::<Result<_, _>>()?;
        tables.push(TableInfo {
            parents: parents.remove(&name).unwrap_or_default(),
            name,
            columns,
            primary_key,
            identity,
        });
    }
    Ok(topological(tables))
}

/// Parents before children (by name among equals); a table's reference to itself, or a
/// cycle, does not block (SQLite defers foreign keys during a restore).
fn topological(mut tables: Vec<TableInfo>) -> Vec<TableInfo> {
    tables.sort_by(|a, b| a.name.cmp(&b.name));
    let names: BTreeSet<String> = tables.iter().map(|t| t.name.clone()).collect();
    let mut placed: BTreeSet<String> = BTreeSet::new();
    let mut out = Vec::with_capacity(tables.len());
    while !tables.is_empty() {
        let ready = tables.iter().position(|t| {
            t.parents
                .iter()
                .all(|p| p == &t.name || placed.contains(p) || !names.contains(p))
        });
        let next = tables.remove(ready.unwrap_or(0));
        placed.insert(next.name.clone());
        out.push(next);
    }
    out
}

/// The highest applied migration (0 on an empty ledger).
pub(crate) async fn sqlite_schema_version(conn: &mut SqliteConnection) -> Result<i64, StoreError> {
    let sql = format!(
        "SELECT coalesce(max(version), 0) FROM {} WHERE success",
        quote(MIGRATIONS_TABLE)
    );
    Ok(sqlx::query(AssertSqlSafe(sql))
        .fetch_one(conn)
        .await?
        .try_get(0)?)
}

pub(crate) async fn pg_schema_version(conn: &mut PgConnection) -> Result<i64, StoreError> {
    let sql = format!(
        "SELECT coalesce(max(version), 0)::bigint FROM {} WHERE success",
        quote(MIGRATIONS_TABLE)
    );
    Ok(sqlx::query(AssertSqlSafe(sql))
        .fetch_one(conn)
        .await?
        .try_get(0)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(name: &str, parents: &[&str]) -> TableInfo {
        TableInfo {
            name: name.to_owned(),
            columns: Vec::new(),
            primary_key: Vec::new(),
            parents: parents.iter().map(|p| (*p).to_owned()).collect(),
            identity: Vec::new(),
        }
    }

    #[test]
    fn parents_come_before_children_and_cycles_do_not_hang() {
        let order: Vec<String> = topological(vec![
            table("a_child", &["z_parent"]),
            table("m_self", &["m_self"]),
            table("z_parent", &[]),
            table("x", &["y"]),
            table("y", &["x"]),
        ])
        .into_iter()
        .map(|t| t.name)
        .collect();
        assert_eq!(order, ["m_self", "z_parent", "a_child", "x", "y"]);
        assert_eq!(quote("a\"b"), "\"a\"\"b\"");
    }
}
