package dev.llmgateway.admin;

import dev.llmgateway.model.UsageRow;
import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.util.List;
import java.util.Locale;

/**
 * A usage report: the rows and the dimensions they are grouped by. {@link #writeCsv} writes it as
 * RFC 4180 CSV (grouped columns first, then the totals), ready for a spreadsheet.
 */
public record UsageReport(List<String> groupBy, List<UsageRow> rows) {

    private static final String TOTALS = "requests,errors,cache_hits,prompt_tokens,completion_tokens,"
            + "total_tokens,cost_usd,unpriced_requests,guardrail_findings";

    /** The report as CSV text. */
    public String toCsv() {
        StringWriter out = new StringWriter();
        writeCsv(out);
        return out.toString();
    }

    /** Writes the report as CSV with a header line; lines end with CRLF as RFC 4180 says. */
    public void writeCsv(Writer out) {
        try {
            for (String dim : groupBy) {
                out.write(dim);
                out.write(',');
            }
            out.write(TOTALS);
            out.write("\r\n");
            for (UsageRow row : rows) {
                for (String dim : groupBy) {
                    out.write(cell(dimension(row, dim)));
                    out.write(',');
                }
                out.write(row.requests() + "," + row.errors() + "," + row.cacheHits() + ","
                        + row.promptTokens() + "," + row.completionTokens() + "," + row.totalTokens() + ","
                        + String.format(Locale.ROOT, "%.6f", row.costUsd()) + "," + row.unpricedRequests()
                        + "," + row.guardrailFindings());
                out.write("\r\n");
            }
            out.flush();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String dimension(UsageRow row, String dim) {
        return switch (dim) {
            case "tenant" -> row.tenant();
            case "key", "subject" -> row.key();
            case "model" -> row.model();
            case "day" -> row.day();
            case "task" -> row.task();
            default -> null;
        };
    }

    /** Quotes a cell holding a comma, quote or line break; a cell starting with =+-@ gets a
     * leading quote so a spreadsheet never runs it as a formula (CSV injection). */
    static String cell(String value) {
        if (value == null) {
            return "";
        }
        String v = value;
        if (!v.isEmpty() && "=+-@\t\r".indexOf(v.charAt(0)) >= 0) {
            v = "'" + v;
        }
        if (v.contains(",") || v.contains("\"") || v.contains("\n") || v.contains("\r")) {
            return "\"" + v.replace("\"", "\"\"") + "\"";
        }
        return v;
    }
}
