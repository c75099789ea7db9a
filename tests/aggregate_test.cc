// Aggregation: the sketches' error bounds, their bytes, the group table, partial aggregation
// over shards, and the memory limit of summarize.

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>

#include "frontend/binder.h"
#include "frontend/parser.h"
#include "planner/executor.h"
#include "planner/logical_plan.h"
#include "runtime/group_table.h"
#include "runtime/json_reader.h"
#include "runtime/sketches.h"
#include "runtime/value.h"
#include "tools/gen/telemetry_generator.h"

namespace tql {
namespace {

// The bytes of a sketch's state.
template <typename Sketch>
std::string BytesOf(const Sketch& s) {
  std::string bytes;
  ByteWriter w(&bytes);
  s.Serialize(&w);
  return bytes;
}

// A sketch read back from its bytes, which the read must consume exactly.
template <typename Sketch>
Sketch ThroughBytes(const Sketch& s) {
  const std::string bytes = BytesOf(s);
  Sketch back;
  ByteReader r(bytes);
  EXPECT_TRUE(back.Deserialize(&r));
  EXPECT_EQ(r.remaining(), 0u);
  return back;
}

// ---- HyperLogLog ------------------------------------------------------------------------------

HyperLogLog Distinct(uint64_t from, uint64_t to) {
  HyperLogLog h;
  for (uint64_t i = from; i < to; ++i) h.Add(HashWord(i));
  return h;
}

TEST(HyperLogLog, ExactUpToItsLimitThenWithinTwoPercent) {
  HyperLogLog h;
  for (int round = 0; round < 3; ++round) {
    for (uint64_t i = 0; i < HyperLogLog::kExactLimit; ++i) h.Add(HashWord(i));
  }
  EXPECT_TRUE(h.exact());
  EXPECT_EQ(h.Estimate(), static_cast<int64_t>(HyperLogLog::kExactLimit));
  for (uint64_t n : {1025ull, 2000ull, 10000ull, 100000ull, 1000000ull, 5000000ull}) {
    const double estimate = static_cast<double>(Distinct(0, n).Estimate());
    const double error = std::fabs(estimate - static_cast<double>(n)) / static_cast<double>(n);
    EXPECT_LE(error, 0.02) << n << " distinct values, estimate " << estimate;
  }
}

TEST(HyperLogLog, ErrorOverManySeedsAtOneMillion) {
  // 20 disjoint sets of one million values: every estimate within 2%, and the mean absolute
  // error near the 0.81% standard error of 2^14 registers.
  double sum = 0;
  for (uint64_t s = 0; s < 20; ++s) {
    const double estimate = static_cast<double>(Distinct(s << 32, (s << 32) + 1000000).Estimate());
    const double error = std::fabs(estimate - 1e6) / 1e6;
    EXPECT_LE(error, 0.02) << "set " << s;
    sum += error;
  }
  EXPECT_LE(sum / 20, 0.012);
}

TEST(HyperLogLog, MergeEqualsOnePassAndSurvivesBytes) {
  for (uint64_t n : {500ull, 1500ull, 300000ull}) {
    HyperLogLog whole = Distinct(0, n);
    HyperLogLog merged;
    for (uint64_t part = 0; part < 7; ++part) {
      HyperLogLog p = Distinct(part * n / 7, std::min(n, (part + 1) * n / 7 + 10));  // overlapping
      merged.Merge(ThroughBytes(p));
    }
    EXPECT_EQ(merged.Estimate(), whole.Estimate()) << n;
  }
}

TEST(HyperLogLog, RejectsTruncatedAndCorruptBytes) {
  for (uint64_t n : {100ull, 5000ull}) {
    const std::string bytes = BytesOf(Distinct(0, n));
    for (size_t len = 0; len < bytes.size(); len += 1 + len / 8) {
      HyperLogLog h;
      ByteReader r(std::string_view(bytes).substr(0, len));
      EXPECT_FALSE(h.Deserialize(&r)) << len;
    }
  }
  std::string dense = BytesOf(Distinct(0, 5000));
  dense[100] = 60;  // no register holds more than 51
  HyperLogLog h;
  ByteReader r(dense);
  EXPECT_FALSE(h.Deserialize(&r));
}

// ---- QuantileSketch ---------------------------------------------------------------------------

TEST(QuantileSketch, BucketsHoldTheirValuesWithinTheRelativeAccuracy) {
  const double alpha = QuantileSketch::RelativeAccuracy();
  EXPECT_LT(alpha, 0.01);
  std::mt19937_64 rng(1);
  std::uniform_real_distribution<double> exponent(-300, 300);
  for (int i = 0; i < 200000; ++i) {
    const double x = std::pow(10.0, exponent(rng));
    const double v = QuantileSketch::ValueOf(QuantileSketch::BucketOf(x));
    ASSERT_LE(std::fabs(v - x), alpha * x * (1 + 1e-12)) << x;
  }
  // Bucket edges: powers of two start a bucket, and buckets are consecutive.
  EXPECT_EQ(QuantileSketch::BucketOf(1.0), 0);
  EXPECT_EQ(QuantileSketch::BucketOf(2.0), 35);
  EXPECT_EQ(QuantileSketch::BucketOf(std::nextafter(2.0, 0.0)), 34);
  EXPECT_EQ(QuantileSketch::BucketOf(0.5), -35);
}

double Exact(std::vector<double> v, double q) {
  return QuantileCont(std::move(v), q);
}

void ExpectWithinBound(const std::vector<double>& values, const QuantileSketch& s,
                       const std::string& what) {
  for (double q : {0.0, 0.001, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.999, 1.0}) {
    const double exact = Exact(values, q);
    const double approx = s.Quantile(q);
    EXPECT_LE(std::fabs(approx - exact), 0.01 * std::fabs(exact) + 1e-300)
        << what << " q=" << q << " exact " << exact << " sketch " << approx;
  }
}

TEST(QuantileSketch, WithinOnePercentOnTelemetryShapedDistributions) {
  std::mt19937_64 rng(7);
  std::lognormal_distribution<double> latency(std::log(20e6), 1.5);  // ns around 20 ms
  std::exponential_distribution<double> wait(1.0 / 5e5);
  std::uniform_real_distribution<double> uniform(-1000, 1000);
  std::normal_distribution<double> around(-50, 10);
  struct Case {
    std::string name;
    std::function<double()> next;
  };
  const std::vector<Case> cases = {
      {"lognormal latency", [&] { return std::round(latency(rng)); }},
      {"exponential", [&] { return wait(rng); }},
      {"uniform around zero", [&] { return uniform(rng); }},
      {"negative normal", [&] { return around(rng); }},
      {"integers with zeros", [&] { return std::floor(std::fabs(around(rng)) / 20); }},
  };
  for (const Case& c : cases) {
    for (size_t n : {1ul, 2ul, 100ul, 129ul, 1000ul, 200000ul}) {
      std::vector<double> values;
      QuantileSketch s;
      for (size_t i = 0; i < n; ++i) {
        values.push_back(c.next());
        s.Add(values.back());
      }
      EXPECT_EQ(s.exact(), n <= QuantileSketch::kExactLimit);
      ExpectWithinBound(values, s, c.name + " n=" + std::to_string(n));
    }
  }
}

TEST(QuantileSketch, ExactWhileSmallAndNaNIgnored) {
  QuantileSketch s;
  for (double x : {5.0, 1.0, std::nan(""), 3.0}) s.Add(x);
  EXPECT_EQ(s.count(), 3);
  EXPECT_EQ(s.Quantile(0.5), 3.0);
  EXPECT_EQ(s.Quantile(0.25), 2.0);  // quantile_cont interpolates
}

TEST(QuantileSketch, MergeOfShardsEqualsOnePassAndSurvivesBytes) {
  std::mt19937_64 rng(3);
  std::lognormal_distribution<double> latency(std::log(1e6), 2);
  std::vector<double> values;
  for (int i = 0; i < 100000; ++i) values.push_back(latency(rng));
  QuantileSketch whole, merged;
  for (double x : values) whole.Add(x);
  for (size_t part = 0; part < 7; ++part) {
    QuantileSketch p;
    for (size_t i = part * values.size() / 7; i < (part + 1) * values.size() / 7; ++i) {
      p.Add(values[i]);
    }
    merged.Merge(ThroughBytes(p));
  }
  for (double q : {0.0, 0.5, 0.9, 0.99, 0.999, 1.0}) {
    EXPECT_EQ(merged.Quantile(q), whole.Quantile(q)) << q;
  }
  ExpectWithinBound(values, merged, "merged");
  // A shard small enough to stay exact merges into a sketched one and the other way round.
  QuantileSketch small, big;
  for (int i = 1; i <= 10; ++i) small.Add(i);
  for (int i = 0; i < 1000; ++i) big.Add(1000 + i);
  QuantileSketch a = small, b = big;
  a.Merge(big);
  b.Merge(small);
  EXPECT_EQ(a.count(), 1010);
  EXPECT_EQ(a.Quantile(0.5), b.Quantile(0.5));
  EXPECT_EQ(a.Quantile(0), 1);
  EXPECT_EQ(a.Quantile(1), 1999);
}

TEST(QuantileSketch, RejectsTruncatedAndCorruptBytes) {
  for (int n : {5, 1000}) {
    QuantileSketch s;
    for (int i = 0; i < n; ++i) s.Add(i * 1.5 - 100);
    const std::string bytes = BytesOf(s);
    for (size_t len = 0; len < bytes.size(); ++len) {
      QuantileSketch back;
      ByteReader r(std::string_view(bytes).substr(0, len));
      EXPECT_FALSE(back.Deserialize(&r) && r.remaining() == 0 && back.count() == n) << len;
    }
  }
}

TEST(QuantileSketch, ValuesSpanningEveryMagnitudeCollapseTheSmallest) {
  QuantileSketch s;
  for (int e = -300; e <= 300; ++e) s.Add(std::pow(10.0, e));
  EXPECT_EQ(s.count(), 601);
  // The top of the range keeps its accuracy; the bottom buckets collapsed.
  const double p99 = s.Quantile(0.99);
  const double exact = std::pow(10.0, 294);
  EXPECT_LE(std::fabs(p99 - exact), 0.01 * exact);
  EXPECT_EQ(s.Quantile(1), 1e300);
}

// ---- GroupTable and StringInterner -------------------------------------------------------------

TEST(GroupTable, NumbersKeysInInsertionOrderAcrossGrowth) {
  GroupTable table(3);
  std::mt19937_64 rng(5);
  std::vector<std::array<uint64_t, 3>> keys(300000);
  for (auto& k : keys) k = {rng() % 1000, rng() % 1000, rng() & 1};
  std::map<std::array<uint64_t, 3>, int32_t> expected;
  for (const auto& k : keys) {
    const int32_t g = table.FindOrInsert(k.data(), table.Hash(k.data()));
    auto [it, fresh] = expected.emplace(k, static_cast<int32_t>(expected.size()));
    ASSERT_EQ(g, it->second);
  }
  EXPECT_EQ(table.size(), static_cast<int32_t>(expected.size()));
  for (const auto& [k, g] : expected) {
    EXPECT_TRUE(std::equal(k.begin(), k.end(), table.key(g)));
  }
}

TEST(StringInterner, DenseIdsAndTheBytesBack) {
  StringInterner strings;
  EXPECT_EQ(strings.Intern("cart"), 0u);
  EXPECT_EQ(strings.Intern(""), 1u);
  EXPECT_EQ(strings.Intern(std::string("a\0b", 3)), 2u);
  for (int i = 0; i < 100000; ++i) strings.Intern("user-" + std::to_string(i % 50000));
  EXPECT_EQ(strings.size(), 50003u);
  EXPECT_EQ(strings.Intern("cart"), 0u);
  EXPECT_EQ(strings.Get(2), std::string_view("a\0b", 3));
  EXPECT_EQ(strings.Get(3), "user-0");
}

// ---- Partial aggregation over shards ------------------------------------------------------------

struct Data {
  Catalog catalog;
  Table spans;
};

const Data& Generated() {
  static const Data data = [] {
    gen::GeneratorOptions options;
    options.spans = 70000;
    options.seed = 11;
    std::string text;
    gen::GenerateTelemetry(
        options, [&](std::string_view s) { text += s; }, nullptr);
    JsonReadOptions read;
    read.table.rows_per_batch = 1000;
    Data d;
    Result<Table> t = ReadJson(text, read);
    EXPECT_TRUE(t.ok());
    d.spans = std::move(t).value();
    d.catalog.Add("spans", d.spans.schema);
    return d;
  }();
  return data;
}

PlanPtr Plan(const Catalog& catalog, const std::string& text) {
  ParseResult parsed = ParseQuery(text);
  EXPECT_TRUE(parsed.query) << text;
  if (!parsed.query) return nullptr;
  BindResult bound = Bind(&*parsed.query, catalog);
  EXPECT_TRUE(bound.ok()) << text;
  PlanResult planned = PlanQuery(*parsed.query, bound, catalog);
  EXPECT_TRUE(planned.plan) << text;
  return std::move(planned.plan);
}

std::vector<std::vector<Value>> Rows(const Table& t) {
  std::vector<std::vector<Value>> rows;
  for (const Batch& b : t.batches) {
    for (int64_t r = 0; r < b.num_rows(); ++r) {
      rows.emplace_back();
      for (int c = 0; c < b.num_columns(); ++c) {
        ReadValue(b.column(c), r, &rows.back().emplace_back());
      }
    }
  }
  return rows;
}

// Shards of contiguous batches, as a host that splits its data by time would have them.
std::vector<SourceTables> Shards(const Table& t, int n) {
  std::vector<SourceTables> shards(static_cast<size_t>(n));
  const size_t batches = t.batches.size();
  for (int s = 0; s < n; ++s) {
    Table part;
    part.schema = t.schema;
    for (size_t b = batches * static_cast<size_t>(s) / static_cast<size_t>(n);
         b < batches * static_cast<size_t>(s + 1) / static_cast<size_t>(n); ++b) {
      part.batches.push_back(t.batches[b]);
    }
    shards[static_cast<size_t>(s)]["spans"] = std::move(part);
  }
  return shards;
}

// Every aggregate of the language, merged from 7 shards, against one pass over all rows:
// exact aggregates equal, float sums within rounding, sketches equal (their merge is exact)
// and so within their bounds.
TEST(PartialAggregation, SevenShardsMergeToTheSinglePassResult) {
  const Data& d = Generated();
  const std::vector<SourceTables> shards = Shards(d.spans, 7);
  const SourceTables all{{"spans", d.spans}};
  const std::vector<std::string> queries = {
      "spans | summarize n = count(), c = count(http.status_code), e = countif(status == "
      "\"error\"), s = sum(duration), lo = min(duration), hi = max(timestamp), a = avg(duration), "
      "sd = stdev(duration), v = variance(http.status_code) by service, kind",
      "spans | summarize users = dcount(user.id), exact = dcount_exact(user.id), p50 = "
      "median(duration), p99 = p99(duration), p999 = percentile(duration, 99.9), pe = "
      "percentile_exact(duration, 95) by service",
      "spans | summarize slowest = arg_max(duration, span_id), fastest = arg_min(duration, "
      "name), first = any(trace_id), routes = make_set(http.route), codes = "
      "make_list(http.status_code, 5), h = histogram(duration, 1s) by service",
      "spans | summarize n = count(), traces = dcount(trace_id) by bin(timestamp, 1m), "
      "http.route | where n > 3 | sort by n desc, timestamp, http.route | take 50",
      "spans | summarize n = count(), d = sum(duration) by trace_id | summarize traces = "
      "count(), spans = sum(n), longest = max(d)",
      "spans | where duration > 1ms | extend slow = duration > 500ms | summarize n = count(), "
      "users = dcount(user.id), p95 = p95(duration) by slow, db.system",
      "spans | where service == \"nothing\" | summarize n = count(), s = sum(duration), "
      "p = p99(duration), u = dcount(user.id)",
  };
  for (const std::string& q : queries) {
    SCOPED_TRACE(q);
    PlanPtr plan = Plan(d.catalog, q);
    ASSERT_TRUE(plan);
    ScanStats stats;
    Result<Table> single = ExecutePlan(*plan, all, &stats);
    ASSERT_TRUE(single.ok()) << single.status().message();
    std::vector<std::string> partials;
    for (const SourceTables& shard : shards) {
      Result<std::string> p = ExecutePartial(*plan, shard, &stats);
      ASSERT_TRUE(p.ok()) << p.status().message();
      partials.push_back(std::move(p).value());
    }
    std::vector<std::string_view> views(partials.begin(), partials.end());
    Result<Table> merged = MergePartials(*plan, views);
    ASSERT_TRUE(merged.ok()) << merged.status().message();
    const auto a = Rows(*single), b = Rows(*merged);
    ASSERT_EQ(a.size(), b.size());
    EXPECT_GT(a.size(), 0u);
    for (size_t r = 0; r < a.size(); ++r) {
      for (size_t c = 0; c < a[r].size(); ++c) {
        const Value& x = a[r][c];
        const Value& y = b[r][c];
        if (x.type == TypeId::kFloat && !x.null && !y.null) {
          EXPECT_NEAR(x.f, y.f, 1e-9 * std::fabs(x.f)) << "row " << r << " column " << c;
        } else {
          EXPECT_EQ(ValueToJson(x), ValueToJson(y)) << "row " << r << " column " << c;
        }
      }
    }
  }
}

TEST(PartialAggregation, ApproximateAggregatesOfShardsAreWithinTheirBounds) {
  const Data& d = Generated();
  PlanPtr approx = Plan(d.catalog,
                        "spans | summarize u = dcount(user.id), t = dcount(trace_id), p = "
                        "p99(duration), m = median(duration) by service | sort by service");
  PlanPtr exact = Plan(d.catalog,
                       "spans | summarize u = dcount_exact(user.id), t = dcount_exact(trace_id), "
                       "p = percentile_exact(duration, 99), m = percentile_exact(duration, 50) by "
                       "service | sort by service");
  std::vector<std::string> partials;
  ScanStats stats;
  for (const SourceTables& shard : Shards(d.spans, 7)) {
    partials.push_back(ExecutePartial(*approx, shard, &stats).value());
  }
  const auto a = Rows(MergePartials(*approx, {partials.begin(), partials.end()}).value());
  const auto e = Rows(ExecutePlan(*exact, {{"spans", d.spans}}, &stats).value());
  ASSERT_EQ(a.size(), e.size());
  for (size_t r = 0; r < a.size(); ++r) {
    for (size_t c = 1; c <= 4; ++c) {
      const double bound = c <= 2 ? 0.02 : 0.01;
      const auto x = static_cast<double>(a[r][c].i), y = static_cast<double>(e[r][c].i);
      EXPECT_LE(std::fabs(x - y), bound * y) << a[r][0].s << " column " << c;
    }
  }
}

TEST(PartialAggregation, RejectsPartialsOfAnotherQueryAndCorruptBytes) {
  const Data& d = Generated();
  PlanPtr plan = Plan(d.catalog, "spans | summarize n = count(), p = p99(duration) by service");
  PlanPtr other = Plan(d.catalog, "spans | summarize n = count(), p = p95(duration) by name");
  ScanStats stats;
  const std::string partial = ExecutePartial(*plan, Shards(d.spans, 7)[0], &stats).value();
  Result<Table> wrong = MergePartials(*other, {partial});
  ASSERT_FALSE(wrong.ok());
  EXPECT_NE(wrong.status().message().find("different summarize"), std::string::npos);
  // Every truncation, and a flipped byte in every position: an error or (where the flip
  // lands in a value) a result, never a crash.
  for (size_t len = 0; len < partial.size(); len += 1 + len / 16) {
    EXPECT_FALSE(MergePartials(*plan, {std::string_view(partial).substr(0, len)}).ok()) << len;
  }
  for (size_t i = 0; i < partial.size(); i += 1 + i / 32) {
    std::string bad = partial;
    bad[i] = static_cast<char>(bad[i] ^ 0x5A);
    (void)MergePartials(*plan, {bad});
  }
}

TEST(PartialAggregation, NeedsASummarizeOverRowByRowStages) {
  const Data& d = Generated();
  ScanStats stats;
  const SourceTables all{{"spans", d.spans}};
  Result<std::string> no_summarize =
      ExecutePartial(*Plan(d.catalog, "spans | where duration > 1s"), all, &stats);
  ASSERT_FALSE(no_summarize.ok());
  EXPECT_NE(no_summarize.status().message().find("needs a summarize"), std::string::npos);
  Result<std::string> take_first = ExecutePartial(
      *Plan(d.catalog, "spans | take 10 | summarize count() by service"), all, &stats);
  ASSERT_FALSE(take_first.ok());
  EXPECT_NE(take_first.status().message().find("take before it"), std::string::npos);
  // A join before the summarize cannot run on one shard's rows; after it, the merge has no
  // rows for its right side.
  Result<std::string> join_first =
      ExecutePartial(*Plan(d.catalog,
                           "spans | join kind=semi (spans | where status == \"error\") on trace_id "
                           "| summarize count() by service"),
                     all, &stats);
  ASSERT_FALSE(join_first.ok());
  EXPECT_NE(join_first.status().message().find("join before it"), std::string::npos);
  const char* join_after =
      "spans | summarize n = count() by trace_id | join (spans | project trace_id, name) on "
      "trace_id";
  Result<std::string> join_last = ExecutePartial(*Plan(d.catalog, join_after), all, &stats);
  ASSERT_FALSE(join_last.ok());
  EXPECT_NE(join_last.status().message().find("a join after that summarize"), std::string::npos);
  // The sharded execution does not split such a query: it runs it whole, with the join.
  Result<Table> whole = ExecutePlan(*Plan(d.catalog, join_after), all, &stats);
  Result<Table> threaded = ExecuteParallel(*Plan(d.catalog, join_after), all, 4, &stats);
  ASSERT_TRUE(whole.ok()) << whole.status().message();
  ASSERT_TRUE(threaded.ok()) << threaded.status().message();
  EXPECT_EQ(threaded->num_rows(), whole->num_rows());
  EXPECT_GT(whole->num_rows(), 0);
}

// ---- Memory limit ------------------------------------------------------------------------------

TEST(AggregateMemory, ALimitEndsTheQueryWithAClearError) {
  const Data& d = Generated();
  PlanPtr plan =
      Plan(d.catalog, "spans | summarize n = count(), s = make_list(name) by trace_id, span_id");
  ScanStats stats;
  ExecOptions options;
  options.memory_limit = 1 << 20;
  Result<Table> r = ExecutePlan(*plan, {{"spans", d.spans}}, &stats, options);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kLimitExceeded);
  EXPECT_NE(r.status().message().find("memory limit of 1.0 MiB"), std::string::npos)
      << r.status().message();
  options.memory_limit = int64_t{1} << 32;
  Result<Table> ok = ExecutePlan(*plan, {{"spans", d.spans}}, &stats, options);
  ASSERT_TRUE(ok.ok()) << ok.status().message();
  EXPECT_EQ(ok->num_rows(), 70000);
}

}  // namespace
}  // namespace tql
