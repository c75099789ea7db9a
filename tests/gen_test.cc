// Tests of the `tql gen` sample-data generator: determinism, exact counts, valid span trees,
// logs that match their spans, and enough realism that example queries have something to find.

#include <gtest/gtest.h>
#include <simdjson.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/time_format.h"
#include "tools/gen/telemetry_generator.h"

namespace tql::gen {
namespace {

struct Generated {
  std::string spans;
  std::string logs;
  std::vector<size_t> span_chunk_sizes;
  GeneratorStats stats;
};

Generated Generate(int64_t spans, uint64_t seed, bool logs = false) {
  Generated out;
  GeneratorOptions options;
  options.spans = spans;
  options.seed = seed;
  options.logs = logs;
  out.stats = GenerateTelemetry(
      options,
      [&](std::string_view chunk) {
        out.spans.append(chunk);
        out.span_chunk_sizes.push_back(chunk.size());
      },
      [&](std::string_view chunk) { out.logs.append(chunk); });
  return out;
}

std::vector<std::string_view> Lines(std::string_view text) {
  std::vector<std::string_view> lines;
  while (!text.empty()) {
    const size_t end = text.find('\n');
    if (end == std::string_view::npos) {
      ADD_FAILURE() << "output does not end with a newline";
      break;
    }
    lines.push_back(text.substr(0, end));
    text.remove_prefix(end + 1);
  }
  return lines;
}

bool IsLowerHex(std::string_view text, size_t length) {
  return text.size() == length && std::all_of(text.begin(), text.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

int64_t ParseTime(std::string_view text) {
  const std::optional<int64_t> ns = ParseTimestamp(text);
  EXPECT_TRUE(ns.has_value()) << text;
  EXPECT_EQ(text.back(), 'Z') << text;
  return ns.value_or(0);
}

// The columns the tests look at, copied out of the parser's buffers.
struct SpanRecord {
  int64_t start = 0;
  int64_t duration = 0;
  std::string trace_id, span_id, parent_id;  // parent_id empty for roots
  std::string name, service, kind, status;
  bool has_status_message = false;
  bool has_error_type = false;
  std::optional<int64_t> http_status;
  bool has_http = false;
  bool has_db = false;
  bool has_messaging = false;
  bool has_payload = false;
  std::optional<bool> coldstart;
  std::string user;  // empty when anonymous

  int64_t end() const { return start + duration; }
};

bool Has(simdjson::dom::element element, std::string_view pointer) {
  return element.at_pointer(pointer).error() == simdjson::SUCCESS;
}

std::string StringAt(simdjson::dom::element element, std::string_view pointer) {
  std::string_view value;
  if (element.at_pointer(pointer).get_string().get(value) != simdjson::SUCCESS) return {};
  return std::string(value);
}

SpanRecord ParseSpan(simdjson::dom::parser& parser, std::string_view line) {
  SpanRecord span;
  simdjson::dom::element doc;
  const auto error = parser.parse(line.data(), line.size()).get(doc);
  EXPECT_EQ(error, simdjson::SUCCESS) << line;
  if (error != simdjson::SUCCESS) return span;
  span.start = ParseTime(StringAt(doc, "/timestamp"));
  EXPECT_EQ(doc["duration"].get_int64().get(span.duration), simdjson::SUCCESS) << line;
  span.trace_id = StringAt(doc, "/trace_id");
  span.span_id = StringAt(doc, "/span_id");
  span.parent_id = StringAt(doc, "/parent_id");
  span.name = StringAt(doc, "/name");
  span.service = StringAt(doc, "/service");
  span.kind = StringAt(doc, "/kind");
  span.status = StringAt(doc, "/status");
  span.has_status_message = !StringAt(doc, "/status_message").empty();
  span.has_error_type = !StringAt(doc, "/error/type").empty();
  span.has_http = Has(doc, "/http");
  int64_t code;
  if (doc.at_pointer("/http/status_code").get_int64().get(code) == simdjson::SUCCESS) {
    span.http_status = code;
  }
  span.has_db = Has(doc, "/db/system") && Has(doc, "/db/statement") && Has(doc, "/db/name");
  span.has_messaging = Has(doc, "/messaging/destination");
  span.has_payload = doc.at_pointer("/payload").is_object();
  bool coldstart;
  if (doc.at_pointer("/faas/coldstart").get_bool().get(coldstart) == simdjson::SUCCESS) {
    span.coldstart = coldstart;
  }
  span.user = StringAt(doc, "/user/id");
  return span;
}

std::vector<SpanRecord> ParseSpans(std::string_view text) {
  simdjson::dom::parser parser;
  std::vector<SpanRecord> spans;
  for (std::string_view line : Lines(text)) spans.push_back(ParseSpan(parser, line));
  return spans;
}

std::map<std::string, std::vector<const SpanRecord*>> ByTrace(
    const std::vector<SpanRecord>& spans) {
  std::map<std::string, std::vector<const SpanRecord*>> traces;
  for (const SpanRecord& span : spans) traces[span.trace_id].push_back(&span);
  return traces;
}

// Every trace is one tree: one root, parents in the same trace, children inside their parents.
void ExpectValidTrees(const std::vector<SpanRecord>& spans) {
  for (const auto& [trace_id, members] : ByTrace(spans)) {
    std::map<std::string, const SpanRecord*> by_id;
    for (const SpanRecord* span : members) {
      EXPECT_TRUE(by_id.emplace(span->span_id, span).second) << "duplicate " << span->span_id;
    }
    int roots = 0;
    for (const SpanRecord* span : members) {
      if (span->parent_id.empty()) {
        ++roots;
        continue;
      }
      const auto parent = by_id.find(span->parent_id);
      ASSERT_NE(parent, by_id.end()) << span->name << " in " << trace_id;
      EXPECT_GE(span->start, parent->second->start) << span->name << " in " << trace_id;
      EXPECT_LE(span->end(), parent->second->end()) << span->name << " in " << trace_id;
    }
    EXPECT_EQ(roots, 1) << trace_id;
  }
}

TEST(GeneratorTest, SameSeedGivesIdenticalBytes) {
  const Generated first = Generate(20000, 42, /*logs=*/true);
  const Generated second = Generate(20000, 42, /*logs=*/true);
  EXPECT_EQ(first.spans, second.spans);
  EXPECT_EQ(first.logs, second.logs);
  EXPECT_GT(first.logs.size(), 0u);
}

TEST(GeneratorTest, SpansDoNotDependOnWhetherLogsAreWritten) {
  EXPECT_EQ(Generate(5000, 3, /*logs=*/true).spans, Generate(5000, 3, /*logs=*/false).spans);
}

TEST(GeneratorTest, DifferentSeedGivesDifferentBytes) {
  EXPECT_NE(Generate(2000, 1).spans, Generate(2000, 2).spans);
}

TEST(GeneratorTest, WritesExactlyTheRequestedNumberOfSpans) {
  for (int64_t n : {1, 2, 7, 1000, 4321}) {
    const Generated out = Generate(n, 9);
    EXPECT_EQ(static_cast<int64_t>(Lines(out.spans).size()), n);
    EXPECT_EQ(out.stats.spans, n);
    EXPECT_GE(out.stats.traces, 1);
    EXPECT_LE(out.stats.traces, n);
  }
}

TEST(GeneratorTest, ZeroSpansWritesNothing) {
  const Generated out = Generate(0, 1, /*logs=*/true);
  EXPECT_TRUE(out.spans.empty());
  EXPECT_TRUE(out.span_chunk_sizes.empty());
  EXPECT_EQ(out.stats.traces, 0);
}

TEST(GeneratorTest, ChunksAreWholeLinesOfAboutOneMebibyte) {
  const Generated out = Generate(20000, 5);
  ASSERT_GT(out.span_chunk_sizes.size(), 2u);
  size_t offset = 0;
  for (size_t i = 0; i < out.span_chunk_sizes.size(); ++i) {
    offset += out.span_chunk_sizes[i];
    EXPECT_EQ(out.spans[offset - 1], '\n');
    if (i + 1 < out.span_chunk_sizes.size()) {
      EXPECT_GE(out.span_chunk_sizes[i], size_t{1} << 20);
      EXPECT_LT(out.span_chunk_sizes[i], size_t{2} << 20);
    }
  }
}

TEST(GeneratorTest, TracesAreValidTrees) {
  ExpectValidTrees(ParseSpans(Generate(20000, 11).spans));
}

TEST(GeneratorTest, TruncatedLastTraceIsStillATree) {
  // Small budgets cut the first trace at every possible point.
  for (int64_t n = 1; n <= 40; ++n) {
    const std::vector<SpanRecord> spans = ParseSpans(Generate(n, 17).spans);
    ASSERT_EQ(static_cast<int64_t>(spans.size()), n);
    ExpectValidTrees(spans);
  }
}

TEST(GeneratorTest, ColumnsHaveTheDocumentedFormats) {
  const std::set<std::string> kinds = {"server", "client", "internal", "producer", "consumer"};
  const std::set<std::string> statuses = {"ok", "error", "unset"};
  for (const SpanRecord& span : ParseSpans(Generate(20000, 12).spans)) {
    EXPECT_TRUE(IsLowerHex(span.trace_id, 32)) << span.trace_id;
    EXPECT_TRUE(IsLowerHex(span.span_id, 16)) << span.span_id;
    EXPECT_TRUE(span.parent_id.empty() || IsLowerHex(span.parent_id, 16)) << span.parent_id;
    EXPECT_TRUE(kinds.count(span.kind)) << span.kind;
    EXPECT_TRUE(statuses.count(span.status)) << span.status;
    EXPECT_GT(span.duration, 0);
    EXPECT_FALSE(span.name.empty());
    EXPECT_FALSE(span.service.empty());
    if (span.service == "api-gateway") {
      EXPECT_EQ(span.kind, "server");
      EXPECT_TRUE(span.http_status.has_value()) << span.name;
    }
    if (span.status == "error") {
      EXPECT_TRUE(span.has_status_message) << span.name;
      EXPECT_TRUE(span.has_error_type) << span.name;
    } else {
      EXPECT_FALSE(span.has_status_message) << span.name;
    }
    if (span.http_status.has_value() && *span.http_status >= 500 && span.kind == "server") {
      EXPECT_EQ(span.status, "error") << span.name;
    }
  }
}

TEST(GeneratorTest, AttributesAppearOnlyWhereTheyBelong) {
  int db = 0, http_clients = 0, messaging = 0, payloads = 0;
  for (const SpanRecord& span : ParseSpans(Generate(20000, 13).spans)) {
    EXPECT_FALSE(span.has_db && span.has_http) << span.name;
    if (span.has_db) {
      ++db;
      EXPECT_EQ(span.kind, "client") << span.name;
    }
    if (span.has_http && span.kind == "client") ++http_clients;
    if (span.has_messaging) {
      ++messaging;
      EXPECT_TRUE(span.kind == "producer" || span.kind == "consumer") << span.name;
    }
    if (span.kind == "producer" || span.kind == "consumer") {
      EXPECT_TRUE(span.has_messaging) << span.name;
    }
    if (span.coldstart.has_value()) {
      EXPECT_TRUE(span.kind == "server" || span.kind == "consumer") << span.name;
      EXPECT_NE(span.service, "api-gateway");
    }
    if (span.kind == "internal") {
      EXPECT_FALSE(span.has_http || span.has_db || span.has_messaging) << span.name;
    }
    payloads += span.has_payload;
  }
  EXPECT_GT(db, 0);
  EXPECT_GT(http_clients, 0);
  EXPECT_GT(messaging, 0);
  EXPECT_GT(payloads, 0);
}

TEST(GeneratorTest, TimeStartsAtTheStartTimeAndMovesForward) {
  GeneratorOptions options;
  options.spans = 20000;
  options.start_time_ns = *ParseTimestamp("2030-01-02T03:04:05Z");
  std::string text;
  GenerateTelemetry(options, [&](std::string_view chunk) { text.append(chunk); }, {});
  const std::vector<SpanRecord> spans = ParseSpans(text);
  ASSERT_FALSE(spans.empty());
  EXPECT_EQ(spans.front().start, options.start_time_ns);
  int64_t last_root = options.start_time_ns - 1;
  for (const SpanRecord& span : spans) {
    EXPECT_GE(span.start, options.start_time_ns);
    if (span.parent_id.empty()) {
      EXPECT_GT(span.start, last_root);
      last_root = span.start;
    }
  }
  EXPECT_GT(last_root - options.start_time_ns, kNanosPerSecond);  // ~2 ms between traces
}

TEST(GeneratorTest, DefaultStartTime) {
  EXPECT_EQ(GeneratorOptions().start_time_ns, *ParseTimestamp("2026-11-24T10:00:00Z"));
}

TEST(GeneratorTest, LogsReferToSpansAndLieWithinThem) {
  const Generated out = Generate(20000, 21, /*logs=*/true);
  std::map<std::pair<std::string, std::string>, const SpanRecord*> spans;
  const std::vector<SpanRecord> records = ParseSpans(out.spans);
  for (const SpanRecord& span : records) spans[{span.trace_id, span.span_id}] = &span;

  const std::set<std::string> severities = {"DEBUG", "INFO", "WARN", "ERROR"};
  std::set<std::pair<std::string, std::string>> with_error_log;
  std::map<std::pair<std::string, std::string>, int> per_span;
  simdjson::dom::parser parser;
  const std::vector<std::string_view> lines = Lines(out.logs);
  EXPECT_EQ(static_cast<int64_t>(lines.size()), out.stats.logs);
  for (std::string_view line : lines) {
    simdjson::dom::element doc;
    ASSERT_EQ(parser.parse(line.data(), line.size()).get(doc), simdjson::SUCCESS) << line;
    const std::pair<std::string, std::string> key = {StringAt(doc, "/trace_id"),
                                                     StringAt(doc, "/span_id")};
    const auto span = spans.find(key);
    ASSERT_NE(span, spans.end()) << line;
    const int64_t at = ParseTime(StringAt(doc, "/timestamp"));
    EXPECT_GE(at, span->second->start) << line;
    EXPECT_LE(at, span->second->end()) << line;
    const std::string severity = StringAt(doc, "/severity");
    EXPECT_TRUE(severities.count(severity)) << line;
    if (severity == "ERROR") with_error_log.insert(key);
    EXPECT_EQ(StringAt(doc, "/service"), span->second->service);
    EXPECT_FALSE(StringAt(doc, "/message").empty()) << line;
    EXPECT_FALSE(StringAt(doc, "/request_id").empty()) << line;
    ++per_span[key];
  }
  for (const auto& [key, count] : per_span) EXPECT_LE(count, 3);
  for (const SpanRecord& span : records) {
    if (span.status == "error") {
      EXPECT_TRUE(with_error_log.count({span.trace_id, span.span_id})) << span.name;
    }
  }
}

TEST(GeneratorTest, SomeLogMessagesAreJsonDocuments) {
  const Generated out = Generate(3000, 22, /*logs=*/true);
  simdjson::dom::parser parser;
  simdjson::dom::parser message_parser;
  int json_messages = 0;
  for (std::string_view line : Lines(out.logs)) {
    simdjson::dom::element doc;
    ASSERT_EQ(parser.parse(line.data(), line.size()).get(doc), simdjson::SUCCESS);
    const std::string message = StringAt(doc, "/message");
    if (message.empty() || message.front() != '{') continue;
    simdjson::dom::element parsed;
    EXPECT_EQ(message_parser.parse(message).get(parsed), simdjson::SUCCESS) << message;
    ++json_messages;
  }
  EXPECT_GT(json_messages, 100);
}

TEST(GeneratorTest, LooksLikeARealSystem) {
  const std::vector<SpanRecord> spans = ParseSpans(Generate(20000, 31).spans);
  std::set<std::string> services;
  std::map<std::string, int> requests_per_user;
  int errors = 0, functions = 0, coldstarts = 0, roots = 0, anonymous = 0;
  int ok_codes = 0, client_codes = 0, server_codes = 0;
  for (const SpanRecord& span : spans) {
    services.insert(span.service);
    errors += span.status == "error";
    if (span.coldstart.has_value()) {
      ++functions;
      coldstarts += *span.coldstart;
    }
    if (!span.parent_id.empty()) continue;
    ++roots;
    if (span.user.empty()) {
      ++anonymous;
    } else {
      ++requests_per_user[span.user];
    }
    const int64_t code = span.http_status.value_or(0);
    ok_codes += code >= 200 && code < 300;
    client_codes += code >= 400 && code < 500;
    server_codes += code >= 500;
  }
  EXPECT_GE(services.size(), 8u);
  const double error_rate = static_cast<double>(errors) / static_cast<double>(spans.size());
  EXPECT_GT(error_rate, 0.01);
  EXPECT_LT(error_rate, 0.15);
  EXPECT_GT(coldstarts, functions / 100);
  EXPECT_LT(coldstarts, functions / 10);
  EXPECT_GT(anonymous, roots / 20);
  EXPECT_LT(anonymous, roots * 3 / 20);
  EXPECT_GT(ok_codes, roots * 8 / 10);
  EXPECT_GT(client_codes, 0);
  EXPECT_GT(server_codes, 0);

  std::vector<int> counts;
  for (const auto& [user, count] : requests_per_user) counts.push_back(count);
  std::sort(counts.begin(), counts.end());
  ASSERT_FALSE(counts.empty());
  EXPECT_GT(counts.back(), 10 * counts[counts.size() / 2]);
  EXPECT_GT(counts.size(), 200u);  // many distinct users, not a handful
}

}  // namespace
}  // namespace tql::gen
