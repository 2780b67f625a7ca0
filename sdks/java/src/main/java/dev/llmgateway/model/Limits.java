package dev.llmgateway.model;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * Rate, token, concurrency and spend limits of a tenant or a key; {@code null} means no limit at
 * that level (the gateway's configured default applies). Build one with {@link #builder()}.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonIgnoreProperties(ignoreUnknown = true)
public record Limits(
        Long rps,
        Long rpm,
        Long rpd,
        Long tpm,
        Long tpd,
        @JsonProperty("max_concurrency") Integer maxConcurrency,
        @JsonProperty("budget_usd_daily") Double budgetUsdDaily,
        @JsonProperty("budget_usd_monthly") Double budgetUsdMonthly) {

    /** No limit set. */
    public static final Limits NONE = new Limits(null, null, null, null, null, null, null, null);

    public static Builder builder() {
        return new Builder();
    }

    /** Fluent construction: set only what you limit. */
    public static final class Builder {
        private Long rps;
        private Long rpm;
        private Long rpd;
        private Long tpm;
        private Long tpd;
        private Integer maxConcurrency;
        private Double budgetUsdDaily;
        private Double budgetUsdMonthly;

        /** Requests per second. */
        public Builder rps(long v) { rps = v; return this; }
        /** Requests per minute. */
        public Builder rpm(long v) { rpm = v; return this; }
        /** Requests per UTC day. */
        public Builder rpd(long v) { rpd = v; return this; }
        /** Tokens (prompt + completion) per minute. */
        public Builder tpm(long v) { tpm = v; return this; }
        /** Tokens per UTC day. */
        public Builder tpd(long v) { tpd = v; return this; }
        /** Requests in flight at once. */
        public Builder maxConcurrency(int v) { maxConcurrency = v; return this; }
        /** Spend per UTC day, in USD. */
        public Builder budgetUsdDaily(double v) { budgetUsdDaily = v; return this; }
        /** Spend per UTC calendar month, in USD. */
        public Builder budgetUsdMonthly(double v) { budgetUsdMonthly = v; return this; }

        public Limits build() {
            return new Limits(rps, rpm, rpd, tpm, tpd, maxConcurrency, budgetUsdDaily, budgetUsdMonthly);
        }
    }
}
