//! The command line: global connection flags and one subcommand per admin area.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "gatewayctl",
    version,
    about = "Administer an LLM Secure Gateway: tenants, keys, usage, audit",
    after_help = "Exit codes: 0 ok, 1 the gateway refused or failed the request, 2 bad usage or invalid \
                  configuration, 3 the gateway cannot be reached, 4 the admin token was rejected."
)]
pub struct Cli {
    /// Base URL of the gateway.
    #[arg(
        long,
        env = "GATEWAY_URL",
        default_value = "http://127.0.0.1:8080",
        global = true
    )]
    pub url: String,
    /// Admin credential: the `[admin] token`, or a gateway key with an admin-capable role.
    #[arg(
        long,
        env = "GATEWAY_ADMIN_TOKEN",
        hide_env_values = true,
        global = true
    )]
    pub token: Option<String>,
    /// Print the gateway's JSON instead of tables (for scripts).
    #[arg(long, global = true)]
    pub json: bool,
    /// Seconds to wait for the gateway's answer.
    #[arg(long, default_value_t = 30, global = true)]
    pub timeout: u64,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create, list, show, change, enable, disable and delete tenants.
    #[command(subcommand)]
    Tenants(TenantsCmd),
    /// Issue, list, show, change, rotate and revoke API keys.
    #[command(subcommand)]
    Keys(KeysCmd),
    /// Signed webhook endpoints: create, list, show, update, delete, rotate-secret,
    /// deliveries, redeliver.
    #[command(subcommand)]
    Webhooks(crate::webhooks::WebhooksCmd),
    /// Prompt templates: create (or a new version), list, get, render, delete.
    #[command(subcommand)]
    Templates(crate::templates::TemplatesCmd),
    /// The prompt linter: `prompts lint FILE`.
    #[command(subcommand)]
    Prompts(crate::templates::PromptsCmd),
    /// Backups of the store: create, list, show (admin API); verify, restore (offline).
    #[command(subcommand)]
    Backup(crate::backup::BackupCmd),
    /// Encryption of stored content: a tenant's data-key status, rotate, re-encrypt; re-wrap
    /// every data key under the current KEK; open sealed content-log fields of log lines.
    #[command(subcommand)]
    Encryption(crate::encryption::EncryptionCmd),
    /// Behavioural anomalies this gateway instance raised (`anomalies list`).
    #[command(subcommand)]
    Anomalies(AnomaliesCmd),
    /// Aggregated usage (requests, tokens, cost, mean answer quality).
    Usage(UsageArgs),
    /// Callers' feedback on their calls: list, summary (per model, deployment, task).
    #[command(subcommand)]
    Feedback(crate::feedback::FeedbackCmd),
    /// Read the audit log, or verify its hash chain (`audit verify`).
    Audit(AuditArgs),
    /// Configuration files.
    #[command(subcommand)]
    Config(ConfigCmd),
    /// Probe `/health` (the process serves) or, with `--ready`, `/ready` (it can take
    /// traffic): exit 0 when it answers 200. Needs no token; container health checks use it.
    Health(HealthArgs),
}

/// What `health` probes.
#[derive(Debug, Clone, Default, Args)]
pub struct HealthArgs {
    /// Probe readiness (`/ready`: store reachable, models configured) instead of liveness.
    #[arg(long)]
    pub ready: bool,
}

/// Limits of a tenant or a key.
#[derive(Debug, Clone, Default, Args)]
pub struct LimitArgs {
    /// Requests per second.
    #[arg(long)]
    pub rps: Option<u64>,
    /// Requests per minute.
    #[arg(long)]
    pub rpm: Option<u64>,
    /// Requests per UTC day.
    #[arg(long)]
    pub rpd: Option<u64>,
    /// Tokens per minute.
    #[arg(long)]
    pub tpm: Option<u64>,
    /// Tokens per day.
    #[arg(long)]
    pub tpd: Option<u64>,
    /// Requests in flight at once.
    #[arg(long)]
    pub max_concurrency: Option<u32>,
    /// Spend per UTC day, in USD.
    #[arg(long)]
    pub budget_daily: Option<f64>,
    /// Spend per UTC month, in USD.
    #[arg(long)]
    pub budget_monthly: Option<f64>,
}

impl LimitArgs {
    pub fn is_empty(&self) -> bool {
        self.rpm.is_none()
            && self.rps.is_none()
            && self.rpd.is_none()
            && self.tpd.is_none()
            && self.tpm.is_none()
            && self.max_concurrency.is_none()
            && self.budget_daily.is_none()
            && self.budget_monthly.is_none()
    }
}

#[derive(Debug, Subcommand)]
pub enum TenantsCmd {
    /// Create a tenant.
    Create {
        id: String,
        /// Display name (default: the id).
        #[arg(long)]
        name: Option<String>,
        /// Models the tenant may use, comma-separated (default: all).
        #[arg(long, value_delimiter = ',')]
        models: Option<Vec<String>>,
        /// Regions the tenant's traffic may be served from, comma-separated (default: any).
        #[arg(long, value_delimiter = ',')]
        regions: Option<Vec<String>>,
        /// CIDR blocks the tenant's callers may call from, comma-separated (default: any).
        #[arg(long, value_delimiter = ',')]
        networks: Option<Vec<String>>,
        /// Do not apply threat-intelligence feeds to this tenant's calls.
        #[arg(long)]
        threat_intel_opt_out: bool,
        #[command(flatten)]
        limits: LimitArgs,
    },
    /// List tenants.
    List,
    /// Show one tenant.
    Show { id: String },
    /// Change a tenant's name, allow-lists or limits (limits given replace all limits).
    Update {
        id: String,
        #[arg(long)]
        name: Option<String>,
        #[arg(long, value_delimiter = ',')]
        models: Option<Vec<String>>,
        #[arg(long, value_delimiter = ',')]
        regions: Option<Vec<String>>,
        /// CIDR blocks the tenant's callers may call from, comma-separated.
        #[arg(long, value_delimiter = ',', conflicts_with = "any_network")]
        networks: Option<Vec<String>>,
        /// Lift the tenant's client network restriction.
        #[arg(long)]
        any_network: bool,
        /// Apply threat-intelligence feeds to this tenant (`true`: do not).
        #[arg(long)]
        threat_intel_opt_out: Option<bool>,
        #[command(flatten)]
        limits: LimitArgs,
    },
    /// Disable a tenant: all its keys and tokens are refused at once.
    Disable { id: String },
    /// Enable a tenant again.
    Enable { id: String },
    /// Delete a tenant and its keys (usage and audit are kept).
    Delete { id: String },
}

// Parsed once per process: the size difference between variants costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum KeysCmd {
    /// Issue a key; its secret is printed once.
    Create {
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        name: String,
        /// Models the key may use, comma-separated (default: all the tenant may use).
        #[arg(long, value_delimiter = ',')]
        models: Option<Vec<String>>,
        /// CIDR blocks the key may be used from, comma-separated (default: any).
        #[arg(long, value_delimiter = ',')]
        networks: Option<Vec<String>>,
        /// Roles: admin, tenant_admin, developer, viewer, auditor (default: developer).
        #[arg(long, value_delimiter = ',')]
        roles: Option<Vec<String>>,
        /// Expire after this many days.
        #[arg(long)]
        expires_in_days: Option<u64>,
        #[command(flatten)]
        limits: LimitArgs,
    },
    /// List keys (never their secrets).
    List {
        #[arg(long)]
        tenant: Option<String>,
    },
    /// Show one key.
    Show { id: String },
    /// Issue a new secret with the same settings and revoke the old key.
    Rotate { id: String },
    /// Revoke a key for good.
    Revoke { id: String },
    /// Change the client networks a key may be used from.
    Networks {
        id: String,
        /// CIDR blocks, comma-separated.
        #[arg(long, value_delimiter = ',', required_unless_present = "any")]
        allow: Option<Vec<String>>,
        /// Lift the restriction: any address (within the tenant's networks).
        #[arg(long, conflicts_with = "allow")]
        any: bool,
    },
    /// Disable a key (reversible).
    Disable { id: String },
    /// Enable a disabled key.
    Enable { id: String },
    /// Resume a key suspended by anomaly detection (enables it again).
    Resume { id: String },
}

#[derive(Debug, Subcommand)]
pub enum AnomaliesCmd {
    /// The recent anomalies the instance raised, newest first (the last 512 at most).
    List {
        /// Only this tenant's (a tenant administrator sees its own by default).
        #[arg(long)]
        tenant: Option<String>,
        /// At most this many (1 to 512).
        #[arg(long, default_value_t = 100)]
        limit: u64,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum GroupBy {
    Day,
    Model,
    Key,
    Tenant,
    Batch,
    Task,
}

impl GroupBy {
    pub fn as_str(self) -> &'static str {
        match self {
            GroupBy::Day => "day",
            GroupBy::Model => "model",
            GroupBy::Key => "key",
            GroupBy::Tenant => "tenant",
            GroupBy::Batch => "batch",
            GroupBy::Task => "task",
        }
    }
}

#[derive(Debug, Args)]
pub struct UsageArgs {
    #[arg(long)]
    pub tenant: Option<String>,
    /// A key id.
    #[arg(long)]
    pub key: Option<String>,
    #[arg(long)]
    pub model: Option<String>,
    /// Start, inclusive: 2024-05-01, 2024-05-01T12:00:00Z or unix seconds.
    #[arg(long)]
    pub from: Option<String>,
    /// End, exclusive; a bare date includes that whole day.
    #[arg(long)]
    pub to: Option<String>,
    /// Group by these, comma-separated.
    #[arg(long, value_enum, value_delimiter = ',')]
    pub group_by: Vec<GroupBy>,
    /// Print CSV instead of a table (takes precedence over --json).
    #[arg(long)]
    pub csv: bool,
}

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct AuditArgs {
    #[command(subcommand)]
    pub command: Option<AuditCmd>,
    #[command(flatten)]
    pub filters: AuditFilters,
}

#[derive(Debug, Subcommand)]
pub enum AuditCmd {
    /// Re-compute the audit hash chain; exits 1 when it is broken.
    Verify,
}

#[derive(Debug, Default, Args)]
pub struct AuditFilters {
    #[arg(long)]
    pub tenant: Option<String>,
    /// Who acted: a key id, a JWT subject, or `admin-token`.
    #[arg(long)]
    pub actor: Option<String>,
    /// e.g. key.create, key.revoke, tenant.update.
    #[arg(long)]
    pub action: Option<String>,
    #[arg(long)]
    pub from: Option<String>,
    #[arg(long)]
    pub to: Option<String>,
    /// Only records after this sequence number (paging).
    #[arg(long)]
    pub after: Option<u64>,
    /// At most this many records (1 to 1000).
    #[arg(long, default_value_t = 100)]
    pub limit: u64,
    /// Newest first.
    #[arg(long)]
    pub newest: bool,
}

#[derive(Debug, Subcommand)]
pub enum ConfigCmd {
    /// Check a configuration file with `llm-gateway --check-config` (found next to
    /// gatewayctl, else on PATH; `LLM_GATEWAY_BIN` overrides). Exits 2 when it is invalid.
    Validate { file: PathBuf },
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn parses_the_documented_shapes() {
        let cli = Cli::try_parse_from([
            "gatewayctl",
            "--json",
            "keys",
            "create",
            "--tenant",
            "acme",
            "--name",
            "ci",
            "--roles",
            "developer,viewer",
            "--rpm",
            "60",
        ])
        .unwrap();
        assert!(cli.json);
        match cli.command {
            Command::Keys(KeysCmd::Create { roles, limits, .. }) => {
                assert_eq!(roles.unwrap(), ["developer", "viewer"]);
                assert_eq!(limits.rpm, Some(60));
            }
            other => panic!("{other:?}"),
        }
        let cli =
            Cli::try_parse_from(["gatewayctl", "anomalies", "list", "--tenant", "acme"]).unwrap();
        assert!(matches!(
            cli.command,
            Command::Anomalies(AnomaliesCmd::List { limit: 100, .. })
        ));
        let cli = Cli::try_parse_from(["gatewayctl", "keys", "resume", "key_1"]).unwrap();
        assert!(matches!(cli.command, Command::Keys(KeysCmd::Resume { .. })));
        let cli = Cli::try_parse_from(["gatewayctl", "audit", "verify"]).unwrap();
        assert!(matches!(
            cli.command,
            Command::Audit(AuditArgs {
                command: Some(AuditCmd::Verify),
                ..
            })
        ));
        let cli = Cli::try_parse_from(["gatewayctl", "usage", "--group-by", "day,model", "--csv"])
            .unwrap();
        assert!(matches!(
            cli.command,
            Command::Usage(UsageArgs { csv: true, .. })
        ));
        assert!(Cli::try_parse_from(["gatewayctl", "usage", "--group-by", "week"]).is_err());
    }
}
