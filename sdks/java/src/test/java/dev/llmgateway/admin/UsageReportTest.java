package dev.llmgateway.admin;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.llmgateway.model.UsageRow;
import java.util.List;
import org.junit.jupiter.api.Test;

/** CSV rendering: quoting, formula neutralising, missing dimensions. */
class UsageReportTest {
    @Test
    void cellsAreQuotedAndFormulasNeutralised() {
        assertEquals("plain", UsageReport.cell("plain"));
        assertEquals("\"a,b\"", UsageReport.cell("a,b"));
        assertEquals("\"say \"\"hi\"\"\"", UsageReport.cell("say \"hi\""));
        assertEquals("'=HYPERLINK(1)", UsageReport.cell("=HYPERLINK(1)"));
        assertEquals("\"'=1,2\"", UsageReport.cell("=1,2"));
        assertEquals("", UsageReport.cell(null));
    }

    @Test
    void oneLinePerRowWithTheGroupedColumnsFirst() {
        UsageReport r = new UsageReport(List.of("model", "day"), List.of(
                new UsageRow(null, null, "gpt,4", "2024-05-01", 3, 1, 1, 10, 20, 30, 0.0125, 0, null, 0, null, 2, 0, null)));
        assertEquals("model,day,requests,errors,cache_hits,prompt_tokens,completion_tokens,total_tokens,cost_usd,"
                + "unpriced_requests,guardrail_findings\r\n\"gpt,4\",2024-05-01,3,1,1,10,20,30,0.012500,0,2\r\n",
                r.toCsv());
    }
}
