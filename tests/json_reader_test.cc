#include "runtime/json_reader.h"

#include <gtest/gtest.h>

#include "tests/test_util.h"

namespace tql {
namespace {

using test::ColumnText;
using Texts = std::vector<std::string>;

Table Read(std::string_view text, JsonReadOptions options = {}, JsonReadStats* stats = nullptr) {
  Result<Table> t = ReadJson(text, options, stats);
  EXPECT_TRUE(t.ok()) << t.status().ToString();
  return t.ok() ? std::move(t).value() : Table{};
}

TEST(NdjsonReader, NestedObjectsAndFlatKeysGiveTheSameColumn) {
  Table t = Read(R"({"http":{"status_code":200,"route":"/a"}}
{"http.status_code":503}
)");
  EXPECT_EQ(t.schema->ToString(), "http.status_code: int, http.route: string");
  EXPECT_EQ(ColumnText(t, "http.status_code"), (Texts{"200", "503"}));
  EXPECT_EQ(ColumnText(t, "http.route"), (Texts{"/a", "null"}));
}

TEST(NdjsonReader, ArraysAndMixedKindsBecomeDynamic) {
  Table t = Read(R"({"tags":["a","b"],"v":1}
{"tags":[],"v":"x"}
{"v":{"deep":true}}
)");
  const Schema& s = *t.schema;
  EXPECT_EQ(s.field(s.IndexOf("tags")).type, TypeId::kDynamic);
  EXPECT_EQ(ColumnText(t, "tags"), (Texts{"[\"a\",\"b\"]", "[]", "null"}));
  // `v` is an int then a string: dynamic; the object on line 3 becomes column v.deep.
  EXPECT_EQ(s.field(s.IndexOf("v")).type, TypeId::kDynamic);
  EXPECT_EQ(ColumnText(t, "v"), (Texts{"1", "\"x\"", "null"}));
  EXPECT_EQ(ColumnText(t, "v.deep"), (Texts{"null", "null", "true"}));
}

TEST(NdjsonReader, IntWidensToFloatAndMissingIsNull) {
  Table t = Read("{\"x\":1}\n{\"y\":true}\n{\"x\":2.5}\n");
  EXPECT_EQ(t.schema->ToString(), "x: float, y: bool");
  EXPECT_EQ(ColumnText(t, "x"), (Texts{"1", "null", "2.5"}));
  EXPECT_EQ(ColumnText(t, "y"), (Texts{"null", "true", "null"}));
}

TEST(NdjsonReader, TimestampStringsAndDurationIntegers) {
  Table t = Read(R"({"timestamp":"2026-11-24T10:00:00.250Z","duration":1250000000}
{"timestamp":"2026-11-24T10:00:01+00:00","duration":3}
)");
  EXPECT_EQ(t.schema->ToString(), "timestamp: timestamp, duration: duration");
  EXPECT_EQ(ColumnText(t, "timestamp"), (Texts{"1795514400250000000", "1795514401000000000"}));
}

TEST(NdjsonReader, MalformedLineIsAnErrorWithItsNumber) {
  Result<Table> t = ReadJson("{\"a\":1}\n\n{\"a\":\n{\"a\":3}\n");
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().code(), StatusCode::kInvalidInput);
  EXPECT_NE(t.status().message().find("line 3"), std::string::npos) << t.status().message();
}

TEST(NdjsonReader, SkipBadLinesCountsThem) {
  JsonReadOptions options;
  options.skip_bad_lines = true;
  JsonReadStats stats;
  Table t =
      Read("{\"a\":1}\nnot json\n[1]\n\"str\"\n{\"a\":2}\n{\"a\":\"\xC3\x28\"}\n", options, &stats);
  EXPECT_EQ(ColumnText(t, "a"), (Texts{"1", "2"}));
  EXPECT_EQ(stats.skipped_lines, 4);
  ASSERT_EQ(stats.skipped_errors.size(), 4u);
  EXPECT_NE(stats.skipped_errors[0].find("line 2"), std::string::npos);
  EXPECT_NE(stats.skipped_errors[1].find("line 3"), std::string::npos);
  EXPECT_NE(stats.skipped_errors[3].find("line 6: invalid UTF-8"), std::string::npos)
      << stats.skipped_errors[3];
}

TEST(NdjsonReader, InvalidUtf8IsReported) {
  Result<Table> t = ReadJson("{\"msg\":\"ok\"}\n{\"msg\":\"\xFF\xFE\"}\n");
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.status().message().find("line 2: invalid UTF-8"), std::string::npos)
      << t.status().message();
}

TEST(NdjsonReader, DeepNestingIsAnErrorNotACrash) {
  std::string deep(100000, '[');
  Result<Table> t = ReadJson("{\"a\":" + deep + "\n");
  ASSERT_FALSE(t.ok());
  std::string deep_obj;
  for (int i = 0; i < 5000; ++i) deep_obj += "{\"k\":";
  deep_obj += "1";
  for (int i = 0; i < 5000; ++i) deep_obj += "}";
  Result<Table> t2 = ReadJson(deep_obj + "\n");
  ASSERT_FALSE(t2.ok());
  EXPECT_NE(t2.status().message().find("nested too deeply"), std::string::npos)
      << t2.status().message();
}

TEST(NdjsonReader, HugeNumbersAndLongStrings) {
  std::string long_string(1 << 20, 'x');
  Table t = Read("{\"n\":18446744073709551615,\"s\":\"" + long_string + "\"}\n{\"n\":1}\n");
  EXPECT_EQ(t.schema->ToString(), "n: float, s: string");
  EXPECT_EQ(ColumnText(t, "s")[0].size(), long_string.size());
  Result<Table> bad = ReadJson("{\"n\":1e999999}\n");
  EXPECT_FALSE(bad.ok());
}

TEST(NdjsonReader, PrettyPrintedDocumentAndArrayOfObjects) {
  Table t = Read("{\n  \"a\": 1,\n  \"b\": {\"c\": \"x\"}\n}\n");
  EXPECT_EQ(t.schema->ToString(), "a: int, b.c: string");
  Table arr = Read("[\n{\"a\":1},\n{\"a\":2}\n]\n");
  EXPECT_EQ(ColumnText(arr, "a"), (Texts{"1", "2"}));
}

TEST(NdjsonReader, EmptyInputAndCrlfLines) {
  Table empty = Read("");
  EXPECT_EQ(empty.num_rows(), 0);
  Table t = Read("{\"a\":1}\r\n{\"a\":2}\r\n");
  EXPECT_EQ(ColumnText(t, "a"), (Texts{"1", "2"}));
}

TEST(NdjsonReader, MissingFileIsAnIoError) {
  Result<Table> t = ReadJsonFile("/nonexistent/spans.ndjson");
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().code(), StatusCode::kIoError);
  EXPECT_NE(t.status().message().find("/nonexistent/spans.ndjson"), std::string::npos);
}

// A small OTLP/JSON export in the shape the OpenTelemetry SDKs and Collector write.
constexpr std::string_view kOtlpTraces = R"({"resourceSpans":[{"resource":{"attributes":[
  {"key":"service.name","value":{"stringValue":"checkout"}},
  {"key":"cloud.region","value":{"stringValue":"eu-west-1"}}]},
 "scopeSpans":[{"scope":{"name":"lib","version":"1.0"},"spans":[
  {"traceId":"5B8EFFF798038103D269B633813FC60C","spanId":"EEE19B7EC3C1B174",
   "name":"GET /cart","kind":2,"startTimeUnixNano":"1795514400000000000",
   "endTimeUnixNano":"1795514400250000000",
   "attributes":[{"key":"http.status_code","value":{"intValue":"200"}},
                 {"key":"http.route","value":{"stringValue":"/cart"}},
                 {"key":"faas.coldstart","value":{"boolValue":true}},
                 {"key":"ratio","value":{"doubleValue":0.5}},
                 {"key":"tags","value":{"arrayValue":{"values":[{"stringValue":"a"},{"intValue":2}]}}},
                 {"key":"user","value":{"kvlistValue":{"values":[{"key":"id","value":{"stringValue":"u1"}}]}}}],
   "status":{"code":"STATUS_CODE_OK"}},
  {"traceId":"W47/95gDgQPSabYzgT/GDA==","spanId":"AAAAAAAAAAE=","parentSpanId":"7uGbfsPBsXQ=",
   "name":"SELECT","kind":"SPAN_KIND_CLIENT","startTimeUnixNano":1795514400010000000,
   "endTimeUnixNano":1795514400020000000,"status":{"code":2,"message":"timeout"},
   "events":[{"name":"exception","timeUnixNano":"1795514400015000000",
              "attributes":[{"key":"exception.type","value":{"stringValue":"Timeout"}}]}]}
 ]}]}]}
)";

TEST(OtlpReader, MapsSpansOntoConventionalColumns) {
  JsonReadStats stats;
  Table t = Read(kOtlpTraces, {}, &stats);
  EXPECT_EQ(stats.format, JsonFormat::kOtlpTraces);
  ASSERT_EQ(t.num_rows(), 2);
  const Schema& s = *t.schema;
  EXPECT_EQ(s.field(0).name, "timestamp");
  EXPECT_EQ(s.field(0).type, TypeId::kTimestamp);
  EXPECT_EQ(s.field(1).name, "duration");
  EXPECT_EQ(s.field(1).type, TypeId::kDuration);
  EXPECT_EQ(ColumnText(t, "duration"), (Texts{"250000000", "10000000"}));
  // Hex ids lower-cased; base64 ids (protobuf JSON mapping) decoded to the same hex.
  EXPECT_EQ(ColumnText(t, "trace_id"),
            (Texts{"5b8efff798038103d269b633813fc60c", "5b8efff798038103d269b633813fc60c"}));
  EXPECT_EQ(ColumnText(t, "span_id"), (Texts{"eee19b7ec3c1b174", "0000000000000001"}));
  EXPECT_EQ(ColumnText(t, "parent_id"), (Texts{"null", "eee19b7ec3c1b174"}));
  EXPECT_EQ(ColumnText(t, "service"), (Texts{"checkout", "checkout"}));
  EXPECT_EQ(ColumnText(t, "kind"), (Texts{"server", "client"}));
  EXPECT_EQ(ColumnText(t, "status"), (Texts{"ok", "error"}));
  EXPECT_EQ(ColumnText(t, "status_message"), (Texts{"null", "timeout"}));
  EXPECT_EQ(ColumnText(t, "cloud.region"), (Texts{"eu-west-1", "eu-west-1"}));
  EXPECT_EQ(ColumnText(t, "scope.name"), (Texts{"lib", "lib"}));
  EXPECT_EQ(s.field(s.IndexOf("http.status_code")).type, TypeId::kInt);
  EXPECT_EQ(ColumnText(t, "http.status_code"), (Texts{"200", "null"}));
  EXPECT_EQ(ColumnText(t, "faas.coldstart"), (Texts{"true", "null"}));
  EXPECT_EQ(ColumnText(t, "ratio"), (Texts{"0.5", "null"}));
  EXPECT_EQ(ColumnText(t, "tags"), (Texts{"[\"a\",2]", "null"}));
  EXPECT_EQ(ColumnText(t, "user.id"), (Texts{"u1", "null"}));
  EXPECT_EQ(ColumnText(t, "events")[1],
            "[{\"name\":\"exception\",\"time_unix_nano\":1795514400015000000,"
            "\"attributes\":{\"exception.type\":\"Timeout\"}}]");
}

TEST(OtlpReader, ReadsOneRequestPerLine) {
  std::string line(kOtlpTraces);
  std::erase(line, '\n');
  Table t = Read(line + "\n" + line + "\n");
  EXPECT_EQ(t.num_rows(), 4);
}

TEST(OtlpReader, MapsLogRecords) {
  constexpr std::string_view kLogs = R"({"resourceLogs":[{"resource":{"attributes":[
    {"key":"service.name","value":{"stringValue":"payments"}}]},
   "scopeLogs":[{"logRecords":[
    {"timeUnixNano":"1795514400000000000","severityNumber":17,"severityText":"ERROR",
     "body":{"stringValue":"card declined"},"traceId":"5b8efff798038103d269b633813fc60c",
     "spanId":"eee19b7ec3c1b174","attributes":[{"key":"error.type","value":{"stringValue":"Declined"}}]},
    {"timeUnixNano":"0","observedTimeUnixNano":"1795514401000000000","severityNumber":9,
     "body":{"kvlistValue":{"values":[{"key":"msg","value":{"stringValue":"ok"}},
                                      {"key":"n","value":{"intValue":3}}]}}}
   ]}]}]})";
  JsonReadStats stats;
  Table t = Read(kLogs, {}, &stats);
  EXPECT_EQ(stats.format, JsonFormat::kOtlpLogs);
  EXPECT_EQ(t.schema->field(0).type, TypeId::kTimestamp);
  EXPECT_EQ(ColumnText(t, "timestamp"), (Texts{"1795514400000000000", "1795514401000000000"}));
  EXPECT_EQ(ColumnText(t, "severity"), (Texts{"ERROR", "INFO"}));
  EXPECT_EQ(ColumnText(t, "service"), (Texts{"payments", "payments"}));
  EXPECT_EQ(ColumnText(t, "message"), (Texts{"card declined", "{\"msg\":\"ok\",\"n\":3}"}));
  EXPECT_EQ(ColumnText(t, "trace_id"), (Texts{"5b8efff798038103d269b633813fc60c", "null"}));
  EXPECT_EQ(ColumnText(t, "error.type"), (Texts{"Declined", "null"}));
}

TEST(OtlpReader, WrongShapesAreErrorsOrIgnoredNeverCrashes) {
  for (
      std::string_view doc : {
          R"({"resourceSpans":5})",
          R"({"resourceSpans":[{"scopeSpans":[{"spans":[7]}]}]})",
          R"({"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":5,"kind":"weird","startTimeUnixNano":"x"}]}]}]})",
          R"({"resourceSpans":[{"resource":{"attributes":[{"value":{}}]},"scopeSpans":[{"spans":[{}]}]}]})",
      }) {
    Result<Table> t = ReadJson(doc);
    if (t.ok()) {
      EXPECT_LE(t->num_rows(), 1);
    }
  }
}

}  // namespace
}  // namespace tql
