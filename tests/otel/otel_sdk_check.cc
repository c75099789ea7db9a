// Reads the OTLP/JSON files that tests/otel/write_otlp.mjs wrote with the OpenTelemetry JS SDK
// (paths in TQL_OTLP_TRACES and TQL_OTLP_LOGS) and checks every column the script set.

#include <gtest/gtest.h>

#include <cstdlib>
#include <regex>

#include "runtime/json_reader.h"
#include "tests/test_util.h"

namespace tql {
namespace {

using test::ColumnText;
using Texts = std::vector<std::string>;

Table ReadEnvFile(const char* variable, JsonFormat expected) {
  const char* path = std::getenv(variable);
  EXPECT_NE(path, nullptr) << variable << " is not set";
  if (path == nullptr) return {};
  JsonReadStats stats;
  Result<Table> t = ReadJsonFile(path, {}, &stats);
  EXPECT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(stats.format, expected);
  return t.ok() ? std::move(t).value() : Table{};
}

TEST(OtelSdk, TracesHaveTheConventionalColumns) {
  Table t = ReadEnvFile("TQL_OTLP_TRACES", JsonFormat::kOtlpTraces);
  ASSERT_EQ(t.num_rows(), 5);
  const Schema& s = *t.schema;
  EXPECT_EQ(s.field(s.IndexOf("timestamp")).type, TypeId::kTimestamp);
  EXPECT_EQ(s.field(s.IndexOf("duration")).type, TypeId::kDuration);
  EXPECT_EQ(ColumnText(t, "name"), (Texts{"SELECT orders", "charge card", "publish order.created",
                                          "GET /api/checkout", "process order.created"}));
  EXPECT_EQ(ColumnText(t, "kind"), (Texts{"client", "internal", "producer", "server", "consumer"}));
  EXPECT_EQ(ColumnText(t, "status"), (Texts{"unset", "error", "unset", "unset", "ok"}));
  EXPECT_EQ(ColumnText(t, "status_message"),
            (Texts{"null", "payment failed", "null", "null", "null"}));
  EXPECT_EQ(ColumnText(t, "duration"),
            (Texts{"45500000", "120000123", "5000000", "250000000", "30000000"}));
  EXPECT_EQ(ColumnText(t, "timestamp")[3], "1705312800000000000");
  EXPECT_EQ(ColumnText(t, "timestamp")[4], "1705312801000000000");
  EXPECT_EQ(ColumnText(t, "service"), Texts(5, "checkout"));
  EXPECT_EQ(ColumnText(t, "cloud.region"), Texts(5, "eu-west-1"));
  EXPECT_EQ(ColumnText(t, "service.version"), Texts(5, "1.4.2"));
  EXPECT_EQ(ColumnText(t, "scope.name"), Texts(5, "tql-fixture"));
}

TEST(OtelSdk, IdsLinkTheTraceTree) {
  Table t = ReadEnvFile("TQL_OTLP_TRACES", JsonFormat::kOtlpTraces);
  ASSERT_EQ(t.num_rows(), 5);
  const Texts trace = ColumnText(t, "trace_id");
  const Texts span = ColumnText(t, "span_id");
  const Texts parent = ColumnText(t, "parent_id");
  const std::regex hex32("[0-9a-f]{32}"), hex16("[0-9a-f]{16}");
  for (int i = 0; i < 5; ++i) {
    EXPECT_TRUE(std::regex_match(trace[i], hex32)) << trace[i];
    EXPECT_TRUE(std::regex_match(span[i], hex16)) << span[i];
  }
  for (int i = 1; i < 4; ++i) EXPECT_EQ(trace[i], trace[0]);
  EXPECT_NE(trace[4], trace[0]);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(parent[i], span[3]);
  EXPECT_EQ(parent[3], "null");
  EXPECT_EQ(parent[4], "null");
}

TEST(OtelSdk, AttributesKeepTheirTypes) {
  Table t = ReadEnvFile("TQL_OTLP_TRACES", JsonFormat::kOtlpTraces);
  ASSERT_EQ(t.num_rows(), 5);
  const Schema& s = *t.schema;
  EXPECT_EQ(s.field(s.IndexOf("http.status_code")).type, TypeId::kInt);
  EXPECT_EQ(s.field(s.IndexOf("faas.coldstart")).type, TypeId::kBool);
  EXPECT_EQ(s.field(s.IndexOf("cart.total")).type, TypeId::kFloat);
  EXPECT_EQ(s.field(s.IndexOf("cart.skus")).type, TypeId::kDynamic);
  EXPECT_EQ(ColumnText(t, "http.method")[3], "GET");
  EXPECT_EQ(ColumnText(t, "http.route")[3], "/api/checkout");
  EXPECT_EQ(ColumnText(t, "http.status_code")[3], "200");
  EXPECT_EQ(ColumnText(t, "user.id")[3], "user-42");
  EXPECT_EQ(ColumnText(t, "faas.coldstart")[3], "true");
  EXPECT_EQ(ColumnText(t, "cart.total")[3], "12.5");
  EXPECT_EQ(ColumnText(t, "cart.skus")[3], "[\"a\",\"b\"]");
  EXPECT_EQ(ColumnText(t, "db.system")[0], "postgres");
  EXPECT_EQ(ColumnText(t, "db.statement")[0], "SELECT * FROM orders WHERE user_id = $1");
  EXPECT_EQ(ColumnText(t, "db.rows_returned")[0], "3");
  EXPECT_EQ(ColumnText(t, "messaging.destination.name")[2], "orders");
  EXPECT_EQ(ColumnText(t, "payment.provider")[1], "acme-pay");
  const std::string events = ColumnText(t, "events")[1];
  EXPECT_NE(events.find("\"name\":\"exception\""), std::string::npos) << events;
  EXPECT_NE(events.find("\"exception.message\":\"card declined: insufficient funds\""),
            std::string::npos)
      << events;
  EXPECT_NE(events.find("\"time_unix_nano\":1705312800170000000"), std::string::npos) << events;
}

TEST(OtelSdk, LogsAreCorrelatedWithSpans) {
  Table spans = ReadEnvFile("TQL_OTLP_TRACES", JsonFormat::kOtlpTraces);
  Table logs = ReadEnvFile("TQL_OTLP_LOGS", JsonFormat::kOtlpLogs);
  ASSERT_EQ(logs.num_rows(), 3);
  ASSERT_EQ(spans.num_rows(), 5);
  EXPECT_EQ(logs.schema->field(logs.schema->IndexOf("timestamp")).type, TypeId::kTimestamp);
  EXPECT_EQ(ColumnText(logs, "timestamp"),
            (Texts{"1705312800020000000", "1705312800175000000", "1705312801005000000"}));
  EXPECT_EQ(ColumnText(logs, "severity"), (Texts{"INFO", "ERROR", "WARN"}));
  EXPECT_EQ(ColumnText(logs, "service"), Texts(3, "checkout"));
  const Texts message = ColumnText(logs, "message");
  EXPECT_EQ(message[0], "cart loaded");
  EXPECT_EQ(message[1], "payment declined for user-42");
  EXPECT_NE(message[2].find("\"event\":\"inventory.low\""), std::string::npos) << message[2];
  EXPECT_NE(message[2].find("\"warehouses\":[\"ams\",\"fra\"]"), std::string::npos) << message[2];
  EXPECT_NE(message[2].find("\"supplier\":{\"id\":\"s-7\",\"name\":\"Acme\"}"), std::string::npos)
      << message[2];
  EXPECT_EQ(ColumnText(logs, "trace_id")[1], ColumnText(spans, "trace_id")[1]);
  EXPECT_EQ(ColumnText(logs, "span_id")[1], ColumnText(spans, "span_id")[1]);
  EXPECT_EQ(ColumnText(logs, "trace_id")[0], "null");
  EXPECT_EQ(ColumnText(logs, "cart.items")[0], "2");
  EXPECT_EQ(ColumnText(logs, "error.type")[1], "PaymentError");
  EXPECT_EQ(ColumnText(logs, "inventory.check")[2], "true");
}

}  // namespace
}  // namespace tql
