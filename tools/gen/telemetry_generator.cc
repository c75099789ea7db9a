#include "tools/gen/telemetry_generator.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <iterator>
#include <span>
#include <string_view>
#include <vector>

#include "runtime/time_format.h"

namespace tql::gen {
namespace {

// =============================================================================================
// Randomness. Standard library distributions differ between implementations and libm results
// or FMA contraction can differ between platforms, so every draw here is integer arithmetic on
// xoshiro256** output; that is what makes the output byte-identical everywhere.

uint64_t SplitMix64(uint64_t* state) {
  uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

uint64_t Mix(uint64_t value) {
  return SplitMix64(&value);
}

// Independent streams, so that e.g. turning logs on does not change the spans.
constexpr uint64_t kSpanStream = 0x5350414e53ULL;
constexpr uint64_t kArrivalStream = 0x415252495645ULL;
constexpr uint64_t kLogStream = 0x4c4f4753ULL;
constexpr uint64_t kPayloadStream = 0x5041594c4f4144ULL;
constexpr uint64_t kIncidentStream = 0x494e434944454e54ULL;

// Chances are in basis points: 100 is 1%.
constexpr uint32_t kAlways = 10000;

class Rng {
 public:
  explicit Rng(uint64_t seed) {
    for (uint64_t& word : state_) word = SplitMix64(&seed);
  }

  uint64_t Next() {
    const uint64_t result = RotateLeft(state_[1] * 5, 7) * 9;
    const uint64_t shifted = state_[1] << 17;
    state_[2] ^= state_[0];
    state_[3] ^= state_[1];
    state_[1] ^= state_[2];
    state_[0] ^= state_[3];
    state_[2] ^= shifted;
    state_[3] = RotateLeft(state_[3], 45);
    return result;
  }

  // Uniform in [0, n); the multiply-shift bias (below n / 2^32) is far too small to see.
  uint32_t Below(uint64_t n) { return static_cast<uint32_t>(((Next() >> 32) * n) >> 32); }

  // Uniform in [lo, hi].
  int64_t Between(int64_t lo, int64_t hi) {
    const uint64_t range = static_cast<uint64_t>(hi - lo) + 1;
    return lo + static_cast<int64_t>(range <= UINT32_MAX ? Below(range) : Next() % range);
  }

  bool Chance(uint32_t basis_points) { return Below(kAlways) < basis_points; }

  // An element of an array or span, each equally likely.
  template <typename Items>
  const auto& Pick(const Items& items) {
    return items[Below(std::size(items))];
  }

 private:
  static uint64_t RotateLeft(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

  uint64_t state_[4];
};

// A distribution given by 65 evenly spaced quantiles in units of 1/1024 (see tables below);
// draws interpolate linearly between neighbours, so the range is bounded by the outer quantiles.
using QuantileTable = std::array<uint32_t, 65>;

// exp(0.25 z) for standard normal z: lognormal with a narrow spread.
constexpr QuantileTable kTightSpread = {{
    559,  622,  658,  685,  707,  726,  743,  759,  773,  787,  800,  812,  824,
    835,  846,  857,  868,  878,  888,  898,  908,  918,  928,  937,  947,  956,
    966,  976,  985,  995,  1004, 1014, 1024, 1034, 1044, 1054, 1064, 1075, 1086,
    1096, 1108, 1119, 1130, 1142, 1155, 1167, 1181, 1194, 1208, 1223, 1239, 1255,
    1273, 1291, 1311, 1332, 1356, 1382, 1411, 1444, 1483, 1531, 1593, 1686, 1877,
}};
// exp(0.5 z).
constexpr QuantileTable kTypicalSpread = {{
    305,  378,  423,  458,  488,  515,  540,  562,  584,  605,  625,  644,  663,
    681,  700,  718,  735,  753,  770,  788,  805,  823,  840,  858,  875,  893,
    911,  929,  948,  966,  985,  1004, 1024, 1044, 1064, 1085, 1106, 1128, 1151,
    1174, 1198, 1222, 1248, 1275, 1302, 1331, 1361, 1393, 1426, 1461, 1499, 1539,
    1582, 1628, 1678, 1734, 1795, 1864, 1944, 2036, 2148, 2289, 2480, 2775, 3439,
}};
// exp(0.9 z).
constexpr QuantileTable kWideSpread = {{
    116,  170,  208,  241,  270,  297,  323,  348,  373,  397,  421,  445,  468,
    492,  516,  540,  564,  589,  614,  639,  664,  691,  717,  744,  772,  801,
    830,  860,  891,  923,  955,  989,  1024, 1060, 1098, 1137, 1177, 1219, 1263,
    1310, 1358, 1409, 1462, 1519, 1578, 1642, 1709, 1781, 1859, 1942, 2033, 2131,
    2239, 2359, 2492, 2642, 2813, 3011, 3245, 3529, 3885, 4356, 5031, 6161, 9067,
}};
// Exponential, scaled so that the interpolated distribution has mean 1.
constexpr QuantileTable kExponential = {{
    8,    25,   41,   58,   76,   93,   111,  129,  148,  166,  186,  205,  225,
    245,  266,  287,  308,  330,  353,  376,  399,  423,  448,  473,  498,  525,
    552,  579,  608,  637,  667,  698,  730,  763,  797,  832,  868,  906,  945,
    986,  1028, 1072, 1117, 1165, 1216, 1268, 1324, 1382, 1444, 1510, 1580, 1656,
    1737, 1824, 1920, 2026, 2143, 2275, 2425, 2601, 2813, 3078, 3432, 3970, 5127,
}};

// Returns a draw from `table` scaled by `scale` (the table's unit, 1024, maps to `scale`), with
// sub-nanosecond resolution so that durations are not visibly quantised.
// REQUIRES: 0 <= scale <= 10 s in nanoseconds (keeps the products within 64 bits).
int64_t DrawScaled(Rng& rng, const QuantileTable& table, int64_t scale) {
  const uint32_t u = static_cast<uint32_t>(rng.Next() >> 32);
  const uint32_t index = u >> 26;
  const uint64_t fraction = (u >> 10) & 0xffff;  // 16 bits, the position between two quantiles
  const uint64_t low = table[index];
  const uint64_t quantile = (low << 16) + (table[index + 1] - low) * fraction;  // in 2^-26 units
  return static_cast<int64_t>((static_cast<uint64_t>(scale) * quantile) >> 26);
}

constexpr int64_t Us(int64_t n) {
  return n * kNanosPerMicro;
}
constexpr int64_t Ms(int64_t n) {
  return n * kNanosPerMilli;
}
constexpr int64_t Sec(int64_t n) {
  return n * kNanosPerSecond;
}

enum class Spread : uint8_t { kTight, kTypical, kWide };

struct Latency {
  int64_t median_ns = 0;
  Spread spread = Spread::kTypical;
};

// GC pauses, lock waits and noisy neighbours: the heavy tail that a lognormal lacks.
constexpr uint32_t kStallBp = 40;

int64_t DrawLatency(Rng& rng, Latency latency) {
  const QuantileTable& table = latency.spread == Spread::kTight     ? kTightSpread
                               : latency.spread == Spread::kTypical ? kTypicalSpread
                                                                    : kWideSpread;
  int64_t ns = DrawScaled(rng, table, latency.median_ns);
  if (rng.Chance(kStallBp)) ns *= rng.Between(4, 25);
  return std::max<int64_t>(ns, 1);
}

// =============================================================================================
// The simulated system: what each service does, how long it takes and how it fails.

struct Failure {
  std::string_view type;     // error.type
  std::string_view message;  // status_message
  int64_t timeout_ns;        // how long the caller waited for it; 0 when it failed fast
  int handler_status;        // what a handler answers when it gives up because of it
  int response_status;       // the status of the response that reported it; 0 if none came
  bool retryable;
};

constexpr Failure kPostgresFailures[] = {
    {"TimeoutError", "canceling statement due to statement timeout", Sec(3), 504, 0, true},
    {"ConnectionRefused", "connect ECONNREFUSED 10.0.3.17:5432", 0, 503, 0, true},
    {"DeadlockDetected", "deadlock detected", Sec(1), 500, 0, true},
};
constexpr Failure kDynamoFailures[] = {
    {"ThrottlingError",
     "ProvisionedThroughputExceededException: The level of configured provisioned throughput "
     "for the table was exceeded",
     0, 503, 400, true},
    {"ValidationError",
     "ValidationException: One or more parameter values were invalid: An AttributeValue may not "
     "contain an empty string",
     0, 500, 400, false},
    {"TimeoutError", "Connection timed out after 2000 ms", Sec(2), 504, 0, true},
};
constexpr Failure kRedisFailures[] = {
    {"TimeoutError", "Command timed out", Ms(500), 504, 0, true},
    {"ConnectionRefused", "connect ECONNREFUSED 10.0.5.9:6379", 0, 503, 0, true},
};
// Calls between our own functions: not retried, since a POST may already have taken effect.
constexpr Failure kNetworkFailures[] = {
    {"TimeoutError", "timeout of 5000ms exceeded", Sec(5), 504, 0, false},
    {"ConnectionReset", "socket hang up", 0, 502, 0, false},
};
constexpr Failure kPaymentProviderFailures[] = {
    {"ServiceUnavailable", "Request failed with status code 503", 0, 503, 503, true},
    {"TimeoutError", "timeout of 10000ms exceeded", Sec(10), 504, 0, true},
};
constexpr Failure kEmailProviderFailures[] = {
    {"RateLimited", "Request failed with status code 429", 0, 503, 429, true},
    {"ServiceUnavailable", "Request failed with status code 503", 0, 503, 503, true},
};
constexpr Failure kQueueFailures[] = {
    {"ThrottlingError", "Rate exceeded", 0, 503, 400, true},
    {"TimeoutError", "Connection timed out after 1000 ms", Sec(1), 504, 0, true},
};
constexpr Failure kHandlerBugs[] = {
    {"TypeError", "Cannot read properties of undefined (reading 'items')", 0, 502, 0, false},
    {"RangeError", "Invalid time value", 0, 502, 0, false},
    {"OutOfMemory", "Runtime exited with error: signal: killed (Runtime.OutOfMemory)", 0, 502, 0,
     false},
};
constexpr Failure kFunctionThrottled = {
    "ThrottlingError", "Rate Exceeded: function concurrency limit reached", 0, 503, 0, false};

struct DbSystem {
  std::string_view name;  // db.system
  std::span<const Failure> failures;
  uint32_t failure_bp;
};

constexpr DbSystem kPostgres{"postgresql", kPostgresFailures, 350};
constexpr DbSystem kDynamoDb{"dynamodb", kDynamoFailures, 280};
constexpr DbSystem kRedis{"redis", kRedisFailures, 180};

struct DbOperation {
  const DbSystem* system;
  std::string_view database;  // db.name
  std::string_view span_name;
  std::string_view statement;  // db.statement
  Latency latency;
};

constexpr DbOperation kSelectCartItems{
    &kPostgres,
    "carts",
    "SELECT cart_items",
    "SELECT sku, qty, unit_price_cents FROM cart_items WHERE cart_id = $1 ORDER BY added_at",
    {Us(2200)}};
constexpr DbOperation kUpsertCartItem{
    &kPostgres,
    "carts",
    "INSERT cart_items",
    "INSERT INTO cart_items (cart_id, sku, qty, unit_price_cents) VALUES ($1, $2, $3, $4) ON "
    "CONFLICT (cart_id, sku) DO UPDATE SET qty = cart_items.qty + EXCLUDED.qty",
    {Us(4500)}};
constexpr DbOperation kDeleteCartItem{&kPostgres,
                                      "carts",
                                      "DELETE cart_items",
                                      "DELETE FROM cart_items WHERE cart_id = $1 AND sku = $2",
                                      {Us(3000)}};
constexpr DbOperation kDeleteCart{&kPostgres,
                                  "carts",
                                  "DELETE cart_items",
                                  "DELETE FROM cart_items WHERE cart_id = $1",
                                  {Us(3500)}};
constexpr DbOperation kInsertOrder{
    &kPostgres,
    "orders",
    "INSERT orders",
    "INSERT INTO orders (id, user_id, total_cents, currency, status) VALUES ($1, $2, $3, $4, "
    "'pending') RETURNING created_at",
    {Us(6000)}};
constexpr DbOperation kMarkOrderPaid{
    &kPostgres,
    "orders",
    "UPDATE orders",
    "UPDATE orders SET status = 'paid', paid_at = now() WHERE id = $1",
    {Us(4000)}};
constexpr DbOperation kSelectOrder{
    &kPostgres,
    "orders",
    "SELECT orders",
    "SELECT id, status, total_cents, currency, created_at FROM orders WHERE id = $1 AND user_id "
    "= $2",
    {Us(2000)}};
constexpr DbOperation kSelectOrderItems{
    &kPostgres,
    "orders",
    "SELECT order_items",
    "SELECT sku, qty, unit_price_cents FROM order_items WHERE order_id = $1",
    {Us(2500)}};
constexpr DbOperation kInsertPayment{
    &kPostgres,
    "payments",
    "INSERT payments",
    "INSERT INTO payments (id, order_id, amount_cents, currency, provider_ref, status) VALUES "
    "($1, $2, $3, $4, $5, 'succeeded')",
    {Us(5000)}};
constexpr DbOperation kSelectPayment{
    &kPostgres,
    "payments",
    "SELECT payments",
    "SELECT id, order_id, amount_cents, currency, status FROM payments WHERE id = $1",
    {Us(1800)}};
constexpr DbOperation kSelectUser{&kPostgres,
                                  "identity",
                                  "SELECT users",
                                  "SELECT id, email, display_name, locale FROM users WHERE id = $1",
                                  {Us(1500)}};
constexpr DbOperation kSelectUserByEmail{
    &kPostgres,
    "identity",
    "SELECT users",
    "SELECT id, password_hash, locked_until FROM users WHERE lower(email) = lower($1)",
    {Us(2500)}};
constexpr DbOperation kUpdateUser{
    &kPostgres,
    "identity",
    "UPDATE users",
    "UPDATE users SET display_name = $2, locale = $3, updated_at = now() WHERE id = $1",
    {Us(4000)}};
constexpr DbOperation kInsertUser{
    &kPostgres,
    "identity",
    "INSERT users",
    "INSERT INTO users (id, email, password_hash, locale) VALUES ($1, $2, $3, $4)",
    {Us(5500)}};
constexpr DbOperation kReserveStock{
    &kPostgres,
    "catalog",
    "UPDATE inventory",
    "UPDATE inventory SET reserved = reserved + $2 WHERE sku = $1 AND on_hand - reserved >= $2",
    {Us(5000), Spread::kWide}};
constexpr DbOperation kFullTextSearch{
    &kPostgres,
    "catalog",
    "SELECT products",
    "SELECT id, sku, name, price_cents, ts_rank(search_vector, q) AS rank FROM products, "
    "plainto_tsquery('english', $1) q WHERE search_vector @@ q ORDER BY rank DESC LIMIT 20",
    {Ms(28), Spread::kWide}};

// DynamoDB statements are the request as the AWS SDK instrumentation records it, values masked.
constexpr DbOperation kGetStock{&kDynamoDb,
                                "Inventory",
                                "DynamoDB.GetItem",
                                R"({"TableName":"Inventory","Key":{"sku":{"S":"?"}},)"
                                R"("ProjectionExpression":"onHand, reserved"})",
                                {Us(4500)}};
constexpr DbOperation kGetIdempotencyKey{
    &kDynamoDb,
    "IdempotencyKeys",
    "DynamoDB.GetItem",
    R"({"TableName":"IdempotencyKeys","Key":{"key":{"S":"?"}},"ConsistentRead":true})",
    {Us(5000)}};
constexpr DbOperation kPutIdempotencyKey{
    &kDynamoDb,
    "IdempotencyKeys",
    "DynamoDB.PutItem",
    R"({"TableName":"IdempotencyKeys",)"
    R"("Item":{"key":{"S":"?"},"response":{"S":"?"},"ttl":{"N":"?"}}})",
    {Us(7000)}};
constexpr DbOperation kPutSession{
    &kDynamoDb,
    "Sessions",
    "DynamoDB.PutItem",
    R"({"TableName":"Sessions",)"
    R"("Item":{"sessionId":{"S":"?"},"userId":{"S":"?"},"expiresAt":{"N":"?"}}})",
    {Us(7500)}};
constexpr DbOperation kQueryNotifications{
    &kDynamoDb,
    "Notifications",
    "DynamoDB.Query",
    R"({"TableName":"Notifications","KeyConditionExpression":"userId = :u",)"
    R"("ScanIndexForward":false,"Limit":20})",
    {Ms(11)}};
constexpr DbOperation kPutNotification{
    &kDynamoDb,
    "Notifications",
    "DynamoDB.PutItem",
    R"({"TableName":"Notifications",)"
    R"("Item":{"userId":{"S":"?"},"createdAt":{"N":"?"},"kind":{"S":"?"}}})",
    {Us(8000)}};

constexpr Latency kCacheLatency{Us(400), Spread::kTight};
constexpr DbOperation kGetCachedCart{&kRedis, "cache", "HGETALL", "HGETALL cart:?", kCacheLatency};
constexpr DbOperation kCacheCart{&kRedis, "cache", "HSET", "HSET cart:? items ? total_cents ?",
                                 kCacheLatency};
constexpr DbOperation kEvictCart{&kRedis, "cache", "DEL", "DEL cart:?", kCacheLatency};
constexpr DbOperation kGetCachedProfile{&kRedis, "cache", "GET", "GET profile:?", kCacheLatency};
constexpr DbOperation kCacheProfile{&kRedis, "cache", "SETEX", "SETEX profile:? 900 ?",
                                    kCacheLatency};
constexpr DbOperation kEvictProfile{&kRedis, "cache", "DEL", "DEL profile:?", kCacheLatency};
constexpr DbOperation kGetCachedStock{&kRedis, "cache", "GET", "GET stock:?", kCacheLatency};
constexpr DbOperation kGetCachedSearch{&kRedis, "cache", "GET", "GET search:?", kCacheLatency};
constexpr DbOperation kCacheSearch{&kRedis, "cache", "SETEX", "SETEX search:? 300 ?",
                                   kCacheLatency};
constexpr DbOperation kSuggest{&kRedis,
                               "cache",
                               "ZRANGEBYLEX",
                               "ZRANGEBYLEX suggest [? + LIMIT 0 10",
                               {Us(700), Spread::kTight}};
constexpr DbOperation kCountLoginAttempt{&kRedis, "cache", "INCR", "INCR login_attempts:?",
                                         kCacheLatency};

// The databases an incident can hit.
constexpr std::string_view kDatabases[] = {"carts",   "orders",    "payments", "identity",
                                           "catalog", "Inventory", "Sessions", "cache"};

struct Computation {
  std::string_view name;
  Latency latency;
};

constexpr Computation kVerifyJwt{"verify jwt", {Us(250), Spread::kTight}};
constexpr Computation kValidateRequest{"validate request", {Us(120)}};
constexpr Computation kComputeTotals{"compute totals", {Us(350)}};
constexpr Computation kApplyPromotions{"apply promotions", {Ms(2), Spread::kWide}};
constexpr Computation kCheckPassword{"bcrypt compare", {Ms(180), Spread::kTight}};
constexpr Computation kHashPassword{"bcrypt hash", {Ms(190), Spread::kTight}};
constexpr Computation kParseQuery{"parse query", {Us(90)}};
constexpr Computation kRankResults{"rank results", {Ms(6), Spread::kWide}};
constexpr Computation kRenderTemplate{"render email template", {Ms(4)}};

struct Route;
struct Queue;

enum class StepKind : uint8_t { kQuery, kCall, kPublish, kCompute };

// One thing a function does; the modifiers read as a sentence in the plans below.
struct Step {
  StepKind kind = StepKind::kCompute;
  const DbOperation* query = nullptr;
  const Route* call = nullptr;
  const Queue* queue = nullptr;
  const Computation* compute = nullptr;
  uint32_t chance_bp = kAlways;
  int max_repeats = 1;
  bool fan_out = false;      // repeats run concurrently rather than one after another
  bool concurrent = false;   // issued together with the previous step (Promise.all)
  bool cache = false;        // a hit ends the handler; a failure falls through to the source
  bool best_effort = false;  // a failure is logged and the handler carries on

  constexpr Step Sometimes(uint32_t percent) const {
    Step step = *this;
    step.chance_bp = percent * 100;
    return step;
  }
  // Once per item, 1..n times, one after another: the N+1 pattern.
  constexpr Step Repeated(int n) const {
    Step step = *this;
    step.max_repeats = n;
    return step;
  }
  constexpr Step FannedOut(int n) const {
    Step step = Repeated(n);
    step.fan_out = true;
    return step;
  }
  constexpr Step Concurrently() const {
    Step step = *this;
    step.concurrent = true;
    return step;
  }
  constexpr Step CacheLookup() const {
    Step step = BestEffort();
    step.cache = true;
    return step;
  }
  constexpr Step BestEffort() const {
    Step step = *this;
    step.best_effort = true;
    return step;
  }
};

constexpr Step Query(const DbOperation& operation) {
  Step step;
  step.kind = StepKind::kQuery;
  step.query = &operation;
  return step;
}
constexpr Step Call(const Route& route) {
  Step step;
  step.kind = StepKind::kCall;
  step.call = &route;
  return step;
}
constexpr Step Publish(const Queue& queue) {
  Step step;
  step.kind = StepKind::kPublish;
  step.queue = &queue;
  return step;
}
constexpr Step Compute(const Computation& computation) {
  Step step;
  step.kind = StepKind::kCompute;
  step.compute = &computation;
  return step;
}

// The request or message body a function records on its span as `payload`.
enum class Payload : uint8_t {
  kNone,
  kCartItem,
  kCheckout,
  kPayment,
  kProfile,
  kOrderEvent,
  kSignupEvent,
  kStockEvent
};

// Node functions log JSON lines (pino); Python functions print text.
enum class LogStyle : uint8_t { kJson, kText };

// A serverless function (faas.name): an HTTP handler or a queue consumer.
struct Function {
  std::string_view service;
  std::string_view name;
  std::span<const Step> plan;
  int memory_mb = 256;
  LogStyle log_style = LogStyle::kJson;
  std::string_view done_message = {};  // logged when the work is done: "cart loaded"
  std::string_view counted = {};       // what that log counts ("items"), or empty
  Payload payload = Payload::kNone;
};

// A 4xx answer that the handler gives before running `after_step` and later steps.
struct ClientError {
  int status = 0;
  uint32_t chance_bp = 0;
  size_t after_step = 0;
  std::string_view reason;
};

struct Route {
  std::string_view endpoint;  // "GET /api/cart/{id}": the span name, http.method + http.route
  const Function* handler = nullptr;  // nullptr for a third-party API seen only as a client
  int success_status = 200;
  ClientError client_error = {};
  Latency latency = {};                    // third-party APIs only
  std::span<const Failure> failures = {};  // third-party APIs only
  uint32_t failure_bp = 0;

  std::string_view method() const { return endpoint.substr(0, endpoint.find(' ')); }
  std::string_view path() const { return endpoint.substr(endpoint.find(' ') + 1); }
};

struct Queue {
  std::string_view system;       // messaging.system
  std::string_view destination;  // messaging.destination
  std::string_view publish_name;
  std::string_view process_name;
  Latency publish_latency;
  const Function* consumer;
};

// Third-party APIs.
constexpr Route kCreatePaymentIntent{.endpoint = "POST /v1/payment_intents",
                                     .latency = {Ms(320), Spread::kWide},
                                     .failures = kPaymentProviderFailures,
                                     .failure_bp = 250};
constexpr Route kSendEmail{.endpoint = "POST /v3/mail/send",
                           .success_status = 202,
                           .latency = {Ms(140), Spread::kWide},
                           .failures = kEmailProviderFailures,
                           .failure_bp = 200};

// Internal routes that our functions call on each other.
constexpr Step kUserRecordPlan[] = {Query(kGetCachedProfile).CacheLookup(), Query(kSelectUser)};
constexpr Function kUserRecord{.service = "users",
                               .name = "users-get-internal",
                               .plan = kUserRecordPlan,
                               .memory_mb = 256,
                               .log_style = LogStyle::kText,
                               .done_message = "user record read"};
constexpr Route kUserRecordRoute{.endpoint = "GET /internal/users/{id}", .handler = &kUserRecord};

constexpr Step kOrderConfirmationPlan[] = {Call(kUserRecordRoute), Compute(kRenderTemplate),
                                           Call(kSendEmail), Query(kPutNotification)};
constexpr Function kOrderConfirmation{.service = "notifications",
                                      .name = "notifications-order-events",
                                      .plan = kOrderConfirmationPlan,
                                      .memory_mb = 256,
                                      .log_style = LogStyle::kJson,
                                      .done_message = "order confirmation sent",
                                      .payload = Payload::kOrderEvent};
constexpr Step kWelcomeEmailPlan[] = {Compute(kRenderTemplate), Call(kSendEmail),
                                      Query(kPutNotification)};
constexpr Function kWelcomeEmail{.service = "notifications",
                                 .name = "notifications-user-signups",
                                 .plan = kWelcomeEmailPlan,
                                 .memory_mb = 256,
                                 .log_style = LogStyle::kJson,
                                 .done_message = "welcome email sent",
                                 .payload = Payload::kSignupEvent};
constexpr Step kStockAlertPlan[] = {Compute(kRenderTemplate), Call(kSendEmail)};
constexpr Function kStockAlert{.service = "notifications",
                               .name = "notifications-stock-alerts",
                               .plan = kStockAlertPlan,
                               .memory_mb = 256,
                               .log_style = LogStyle::kJson,
                               .done_message = "stock alert sent",
                               .counted = "subscribers",
                               .payload = Payload::kStockEvent};

constexpr Queue kOrderEvents{.system = "aws_sqs",
                             .destination = "order-events",
                             .publish_name = "order-events publish",
                             .process_name = "order-events process",
                             .publish_latency = {Ms(9)},
                             .consumer = &kOrderConfirmation};
constexpr Queue kUserSignups{.system = "aws_sns",
                             .destination = "user-signups",
                             .publish_name = "user-signups publish",
                             .process_name = "user-signups process",
                             .publish_latency = {Ms(18)},
                             .consumer = &kWelcomeEmail};
constexpr Queue kInventoryChanges{.system = "aws_sqs",
                                  .destination = "inventory-changes",
                                  .publish_name = "inventory-changes publish",
                                  .process_name = "inventory-changes process",
                                  .publish_latency = {Ms(9)},
                                  .consumer = &kStockAlert};

constexpr Step kStockLevelPlan[] = {Query(kGetCachedStock).CacheLookup(), Query(kGetStock)};
constexpr Function kStockLevel{.service = "inventory",
                               .name = "inventory-get-internal",
                               .plan = kStockLevelPlan,
                               .memory_mb = 256,
                               .log_style = LogStyle::kText,
                               .done_message = "stock level read",
                               .counted = "on_hand"};
constexpr Route kStockLevelRoute{.endpoint = "GET /internal/inventory/{sku}",
                                 .handler = &kStockLevel};

constexpr Step kReserveStockPlan[] = {Query(kReserveStock),
                                      Publish(kInventoryChanges).Sometimes(15)};
constexpr Function kReserve{.service = "inventory",
                            .name = "inventory-reserve",
                            .plan = kReserveStockPlan,
                            .memory_mb = 256,
                            .log_style = LogStyle::kText,
                            .done_message = "stock reserved",
                            .counted = "qty"};
constexpr Route kReserveRoute{.endpoint = "POST /internal/inventory/reserve", .handler = &kReserve};

constexpr Step kCartContentsPlan[] = {Query(kGetCachedCart).CacheLookup(), Query(kSelectCartItems)};
constexpr Function kCartContents{.service = "cart",
                                 .name = "cart-get-internal",
                                 .plan = kCartContentsPlan,
                                 .memory_mb = 512,
                                 .log_style = LogStyle::kJson,
                                 .done_message = "cart loaded",
                                 .counted = "items"};
constexpr Route kCartContentsRoute{.endpoint = "GET /internal/cart/{id}",
                                   .handler = &kCartContents};

constexpr Step kClearCartPlan[] = {Query(kDeleteCart), Query(kEvictCart).BestEffort()};
constexpr Function kClearCart{.service = "cart",
                              .name = "cart-clear",
                              .plan = kClearCartPlan,
                              .memory_mb = 512,
                              .log_style = LogStyle::kJson,
                              .done_message = "cart cleared",
                              .counted = "items"};
constexpr Route kClearCartRoute{
    .endpoint = "DELETE /internal/cart/{id}", .handler = &kClearCart, .success_status = 204};

constexpr Step kChargePlan[] = {Query(kGetIdempotencyKey), Call(kCreatePaymentIntent),
                                Query(kInsertPayment), Query(kPutIdempotencyKey).Concurrently()};
constexpr Function kCharge{.service = "payments",
                           .name = "payments-charge",
                           .plan = kChargePlan,
                           .memory_mb = 1024,
                           .log_style = LogStyle::kText,
                           .done_message = "payment captured",
                           .payload = Payload::kPayment};
constexpr Route kChargeRoute{
    .endpoint = "POST /internal/payments/charge", .handler = &kCharge, .success_status = 201};

// Public routes behind the API gateway.
constexpr Step kSearchPlan[] = {
    Compute(kParseQuery),  Query(kGetCachedSearch).CacheLookup(), Query(kFullTextSearch),
    Compute(kRankResults), Call(kStockLevelRoute).FannedOut(5),   Query(kCacheSearch).BestEffort(),
};
constexpr Function kSearch{.service = "search",
                           .name = "search-query",
                           .plan = kSearchPlan,
                           .memory_mb = 1024,
                           .log_style = LogStyle::kJson,
                           .done_message = "search completed",
                           .counted = "results"};
constexpr Route kSearchRoute{.endpoint = "GET /api/search",
                             .handler = &kSearch,
                             .client_error = {400, 200, 1, "query must not be empty"}};

constexpr Step kSuggestPlan[] = {Query(kSuggest)};
constexpr Function kSuggestions{.service = "search",
                                .name = "search-suggest",
                                .plan = kSuggestPlan,
                                .memory_mb = 256,
                                .log_style = LogStyle::kJson,
                                .done_message = "suggestions served",
                                .counted = "results"};
constexpr Route kSuggestRoute{.endpoint = "GET /api/search/suggest", .handler = &kSuggestions};

constexpr Step kGetCartPlan[] = {
    Compute(kVerifyJwt),     Query(kGetCachedCart).CacheLookup(),
    Query(kSelectCartItems), Call(kStockLevelRoute).Repeated(4),
    Compute(kComputeTotals), Query(kCacheCart).BestEffort(),
};
constexpr Function kGetCart{.service = "cart",
                            .name = "cart-get",
                            .plan = kGetCartPlan,
                            .memory_mb = 512,
                            .log_style = LogStyle::kJson,
                            .done_message = "cart loaded",
                            .counted = "items"};
constexpr Route kGetCartRoute{.endpoint = "GET /api/cart/{id}",
                              .handler = &kGetCart,
                              .client_error = {404, 200, 3, "cart not found"}};

constexpr Step kAddItemPlan[] = {Compute(kVerifyJwt), Compute(kValidateRequest),
                                 Call(kStockLevelRoute), Query(kUpsertCartItem),
                                 Query(kEvictCart).BestEffort()};
constexpr Function kAddItem{.service = "cart",
                            .name = "cart-add-item",
                            .plan = kAddItemPlan,
                            .memory_mb = 512,
                            .log_style = LogStyle::kJson,
                            .done_message = "item added to cart",
                            .counted = "qty",
                            .payload = Payload::kCartItem};
constexpr Route kAddItemRoute{.endpoint = "POST /api/cart/{id}/items",
                              .handler = &kAddItem,
                              .success_status = 201,
                              .client_error = {400, 400, 2, "qty must be a positive integer"}};

constexpr Step kRemoveItemPlan[] = {Compute(kVerifyJwt), Query(kDeleteCartItem),
                                    Query(kEvictCart).BestEffort()};
constexpr Function kRemoveItem{.service = "cart",
                               .name = "cart-remove-item",
                               .plan = kRemoveItemPlan,
                               .memory_mb = 512,
                               .log_style = LogStyle::kJson,
                               .done_message = "item removed from cart",
                               .counted = "remaining"};
constexpr Route kRemoveItemRoute{.endpoint = "DELETE /api/cart/{id}/items/{sku}",
                                 .handler = &kRemoveItem,
                                 .success_status = 204,
                                 .client_error = {404, 300, 2, "item not in cart"}};

constexpr Step kPlaceOrderPlan[] = {
    Compute(kVerifyJwt),
    Compute(kValidateRequest),
    Call(kCartContentsRoute),
    Call(kReserveRoute).Repeated(3),
    Compute(kComputeTotals),
    Compute(kApplyPromotions).Sometimes(40),
    Query(kInsertOrder),
    Call(kChargeRoute),
    Query(kMarkOrderPaid),
    Publish(kOrderEvents),
    Call(kClearCartRoute).Concurrently().BestEffort(),
};
constexpr Function kPlaceOrder{.service = "checkout",
                               .name = "checkout-place-order",
                               .plan = kPlaceOrderPlan,
                               .memory_mb = 1024,
                               .log_style = LogStyle::kJson,
                               .done_message = "order placed",
                               .counted = "items",
                               .payload = Payload::kCheckout};
constexpr Route kPlaceOrderRoute{.endpoint = "POST /api/checkout",
                                 .handler = &kPlaceOrder,
                                 .success_status = 201,
                                 .client_error = {400, 300, 2, "shipping address is incomplete"}};

constexpr Step kGetOrderPlan[] = {Compute(kVerifyJwt), Query(kSelectOrder),
                                  Query(kSelectOrderItems).Concurrently()};
constexpr Function kGetOrder{.service = "checkout",
                             .name = "checkout-get-order",
                             .plan = kGetOrderPlan,
                             .memory_mb = 512,
                             .log_style = LogStyle::kJson,
                             .done_message = "order fetched",
                             .counted = "items"};
constexpr Route kGetOrderRoute{.endpoint = "GET /api/orders/{id}",
                               .handler = &kGetOrder,
                               .client_error = {404, 400, 2, "order not found"}};

constexpr Step kGetPaymentPlan[] = {Compute(kVerifyJwt), Query(kSelectPayment)};
constexpr Function kGetPayment{.service = "payments",
                               .name = "payments-get",
                               .plan = kGetPaymentPlan,
                               .memory_mb = 512,
                               .log_style = LogStyle::kText,
                               .done_message = "payment fetched"};
constexpr Route kGetPaymentRoute{.endpoint = "GET /api/payments/{id}",
                                 .handler = &kGetPayment,
                                 .client_error = {404, 300, 2, "payment not found"}};

constexpr Step kGetProfilePlan[] = {Compute(kVerifyJwt), Query(kGetCachedProfile).CacheLookup(),
                                    Query(kSelectUser), Query(kCacheProfile).BestEffort()};
constexpr Function kGetProfile{.service = "users",
                               .name = "users-get-profile",
                               .plan = kGetProfilePlan,
                               .memory_mb = 256,
                               .log_style = LogStyle::kText,
                               .done_message = "profile loaded"};
constexpr Route kGetProfileRoute{.endpoint = "GET /api/users/{id}",
                                 .handler = &kGetProfile,
                                 .client_error = {404, 100, 3, "user not found"}};

constexpr Step kLoginPlan[] = {Compute(kValidateRequest), Query(kSelectUserByEmail),
                               Compute(kCheckPassword), Query(kPutSession),
                               Query(kCountLoginAttempt).Concurrently().BestEffort()};
constexpr Function kLogin{.service = "users",
                          .name = "users-login",
                          .plan = kLoginPlan,
                          .memory_mb = 512,
                          .log_style = LogStyle::kText,
                          .done_message = "login succeeded"};
constexpr Route kLoginRoute{.endpoint = "POST /api/users/login",
                            .handler = &kLogin,
                            .client_error = {401, 800, 3, "invalid credentials"}};

constexpr Step kUpdateProfilePlan[] = {Compute(kVerifyJwt), Compute(kValidateRequest),
                                       Query(kUpdateUser), Query(kEvictProfile).BestEffort()};
constexpr Function kUpdateProfile{.service = "users",
                                  .name = "users-update-profile",
                                  .plan = kUpdateProfilePlan,
                                  .memory_mb = 256,
                                  .log_style = LogStyle::kText,
                                  .done_message = "profile updated",
                                  .counted = "fields",
                                  .payload = Payload::kProfile};
constexpr Route kUpdateProfileRoute{.endpoint = "PUT /api/users/{id}",
                                    .handler = &kUpdateProfile,
                                    .client_error = {400, 500, 2, "locale is not supported"}};

constexpr Step kSignupPlan[] = {Compute(kValidateRequest), Query(kSelectUserByEmail),
                                Compute(kHashPassword), Query(kInsertUser), Publish(kUserSignups)};
constexpr Function kSignup{.service = "users",
                           .name = "users-signup",
                           .plan = kSignupPlan,
                           .memory_mb = 512,
                           .log_style = LogStyle::kText,
                           .done_message = "user registered"};
constexpr Route kSignupRoute{.endpoint = "POST /api/users",
                             .handler = &kSignup,
                             .success_status = 201,
                             .client_error = {409, 600, 2, "email already registered"}};

constexpr Function kPublicStockLevel{.service = "inventory",
                                     .name = "inventory-get",
                                     .plan = kStockLevelPlan,
                                     .memory_mb = 256,
                                     .log_style = LogStyle::kText,
                                     .done_message = "stock level read",
                                     .counted = "on_hand"};
constexpr Route kPublicStockRoute{.endpoint = "GET /api/inventory/{sku}",
                                  .handler = &kPublicStockLevel,
                                  .client_error = {404, 300, 2, "unknown sku"}};

constexpr Step kListNotificationsPlan[] = {Compute(kVerifyJwt), Query(kQueryNotifications)};
constexpr Function kListNotifications{.service = "notifications",
                                      .name = "notifications-list",
                                      .plan = kListNotificationsPlan,
                                      .memory_mb = 256,
                                      .log_style = LogStyle::kJson,
                                      .done_message = "notifications listed",
                                      .counted = "count"};
constexpr Route kListNotificationsRoute{.endpoint = "GET /api/notifications",
                                        .handler = &kListNotifications};

struct WeightedRoute {
  const Route* route;
  uint32_t weight;
};

// Traffic mix at the gateway, in percent.
constexpr WeightedRoute kEntryRoutes[] = {
    {&kSearchRoute, 16},      {&kSuggestRoute, 12},          {&kGetCartRoute, 14},
    {&kAddItemRoute, 8},      {&kRemoveItemRoute, 3},        {&kPlaceOrderRoute, 5},
    {&kGetOrderRoute, 5},     {&kGetPaymentRoute, 2},        {&kGetProfileRoute, 9},
    {&kLoginRoute, 6},        {&kUpdateProfileRoute, 2},     {&kSignupRoute, 1},
    {&kPublicStockRoute, 10}, {&kListNotificationsRoute, 7},
};

struct Region {
  std::string_view name;
  std::string_view currency;
  std::span<const std::string_view> countries;
  std::span<const std::string_view> locales;
  uint32_t weight;
};

constexpr std::string_view kUsCountries[] = {"US", "CA"};
constexpr std::string_view kUsLocales[] = {"en-US", "es-US", "en-CA"};
constexpr std::string_view kEuCountries[] = {"DE", "FR", "IE", "NL"};
constexpr std::string_view kEuLocales[] = {"de-DE", "fr-FR", "en-IE", "nl-NL"};
constexpr std::string_view kApCountries[] = {"AU", "NZ"};
constexpr std::string_view kApLocales[] = {"en-AU", "en-NZ"};

constexpr Region kRegions[] = {
    {"us-east-1", "USD", kUsCountries, kUsLocales, 50},
    {"eu-west-1", "EUR", kEuCountries, kEuLocales, 35},
    {"ap-southeast-2", "AUD", kApCountries, kApLocales, 15},
};

// Rates and timings of the gateway and the function runtime.
constexpr uint32_t kAnonymousBp = 1000;
constexpr uint32_t kUnauthorizedBp = 100;  // missing or expired token, rejected by the authorizer
constexpr uint32_t kRateLimitedBp = 40;    // usage plan quota, answered 429 by the gateway
constexpr uint32_t kThrottledBp = 40;      // function concurrency limit
constexpr uint32_t kColdStartBp = 500;
constexpr uint32_t kHandlerBugBp = 80;
constexpr uint32_t kNetworkFailureBp = 120;
constexpr uint32_t kQueueFailureBp = 100;
constexpr uint32_t kCacheHitBp = 6000;
constexpr uint32_t kRetryBp = 5000;
constexpr Latency kAuthorizerLatency{Us(900), Spread::kTight};
constexpr Latency kIntegrationLatency{Us(1500), Spread::kTight};
constexpr Latency kGatewayResponseLatency{Us(400), Spread::kTight};
constexpr Latency kHandlerStartup{Us(200), Spread::kTight};
constexpr Latency kHandlerShutdown{Us(300)};
constexpr Latency kNetworkRoundTrip{Us(1400)};
constexpr Latency kQueueDelivery{Ms(6)};
constexpr int64_t kMeanTraceGapNs = Ms(2);

// Once per period one database degrades for a while (failures and latency rise), so error
// rates move over time the way they do in an incident. The first one starts after the first
// quarter period, so small samples are not dominated by one.
constexpr int64_t kIncidentPeriodNs = Sec(300);
constexpr int64_t kIncidentLengthNs = Sec(60);
constexpr uint32_t kDegradedFailureBp = 2500;
constexpr int64_t kDegradedSlowdown = 3;

constexpr int kUserCount = 5000;

// =============================================================================================
// Building a trace.

enum class SpanKind : uint8_t { kServer, kClient, kInternal, kProducer, kConsumer };
enum class SpanStatus : uint8_t { kUnset, kOk, kError };

constexpr int32_t kNoSpan = -1;

struct Span {
  int64_t start = 0;
  int64_t duration = 0;
  uint64_t id = 0;
  int32_t parent = kNoSpan;      // index in the trace
  int32_t invocation = kNoSpan;  // the gateway or function span whose request this serves
  SpanKind kind = SpanKind::kInternal;
  SpanStatus status = SpanStatus::kUnset;
  std::string_view name;
  std::string_view service;
  std::string_view error_type;         // errors only
  std::string_view status_message;     // errors only
  std::string_view client_error;       // the reason of a 4xx answer
  const Route* route = nullptr;        // http.*
  int http_status = 0;                 // 0 when no response arrived
  const Function* function = nullptr;  // faas.*
  int64_t init_ns = 0;                 // cold start initialisation; 0 when warm
  bool has_user = false;
  const DbOperation* query = nullptr;  // db.*
  const Queue* queue = nullptr;        // messaging.*
  int attempt = 1;
};

struct Trace {
  uint64_t id_high = 0;
  uint64_t id_low = 0;
  const Region* region = nullptr;
  int user = 0;  // 0 when anonymous
  std::vector<Span> spans;
};

// How a piece of work ended, as its caller sees it.
struct Outcome {
  int64_t end = 0;
  int http_status = 0;
  std::string_view error_type;  // empty when it succeeded
  std::string_view error_message;
  int handler_status = 0;  // what a handler answers when it gives up because of this
  bool retryable = false;

  bool failed() const { return !error_type.empty(); }
};

Outcome Succeeded(int64_t end, int http_status = 0) {
  Outcome outcome;
  outcome.end = end;
  outcome.http_status = http_status;
  return outcome;
}

std::string_view RequestFailedMessage(int status) {
  switch (status) {
    case 500:
      return "Request failed with status code 500";
    case 502:
      return "Request failed with status code 502";
    case 503:
      return "Request failed with status code 503";
    case 504:
      return "Request failed with status code 504";
    default:
      return "Request failed";
  }
}

// What API Gateway itself says when the function behind it failed.
std::string_view GatewayMessage(int status) {
  switch (status) {
    case 502:
      return "Bad gateway";
    case 503:
      return "Service unavailable";
    case 504:
      return "Endpoint request timed out";
    default:
      return "Internal server error";
  }
}

// Zipf-Mandelbrot over users (weight 1/(rank+3)): a few very active users and a long tail.
class UserPopulation {
 public:
  UserPopulation() {
    uint64_t total = 0;
    cumulative_.reserve(kUserCount);
    for (uint64_t rank = 0; rank < kUserCount; ++rank) {
      total += (uint64_t{1} << 40) / (rank + 3);
      cumulative_.push_back(total);
    }
  }

  // Returns a user number in [1, kUserCount]; ranks are scattered so user 1 is not the top one.
  int Draw(Rng& rng) const {
    const uint64_t point = rng.Next() % cumulative_.back();
    const auto rank =
        std::upper_bound(cumulative_.begin(), cumulative_.end(), point) - cumulative_.begin();
    return static_cast<int>((rank * 2713 + 1234) % kUserCount) + 1;
  }

 private:
  std::vector<uint64_t> cumulative_;
};

class IncidentSchedule {
 public:
  IncidentSchedule(uint64_t seed, int64_t origin)
      : seed_(Mix(seed ^ kIncidentStream)), origin_(origin) {}

  bool Degrades(std::string_view database, int64_t at) const {
    if (at < origin_) return false;
    const int64_t period = (at - origin_) / kIncidentPeriodNs;
    uint64_t state = seed_ + static_cast<uint64_t>(period);
    const uint64_t slack = kIncidentPeriodNs * 3 / 4 - kIncidentLengthNs;
    const int64_t begins = origin_ + period * kIncidentPeriodNs + kIncidentPeriodNs / 4 +
                           static_cast<int64_t>(SplitMix64(&state) % slack);
    if (at < begins || at >= begins + kIncidentLengthNs) return false;
    return kDatabases[SplitMix64(&state) % std::size(kDatabases)] == database;
  }

 private:
  uint64_t seed_;
  int64_t origin_;
};

class TraceBuilder {
 public:
  TraceBuilder(uint64_t seed, int64_t origin)
      : rng_(Mix(seed ^ kSpanStream)), incidents_(seed, origin) {}

  // Replaces `trace` by a new one that starts at `start` and has at most `max_spans` spans.
  // REQUIRES: max_spans >= 1.
  void Build(int64_t start, int64_t max_spans, Trace* trace);

 private:
  Span& At(int32_t index) { return trace_->spans[static_cast<size_t>(index)]; }
  int32_t Open(int32_t parent, int64_t start, SpanKind kind, std::string_view service,
               std::string_view name);
  void Finish(int32_t index, const Outcome& outcome, SpanStatus success_status);
  int64_t Draw(Latency latency) { return DrawLatency(rng_, latency); }
  int64_t Gap() { return rng_.Between(Us(15), Us(180)); }
  int64_t Jitter() { return rng_.Between(Us(5), Us(60)); }
  Outcome Fail(int64_t start, const Failure& failure);

  const Route& PickEntryRoute();
  const Region& PickRegion();
  void ServeAtGateway(int64_t start, const Route& route);
  Outcome GatewayResponse(int32_t root, int64_t start, const Route& route);
  Outcome Invoke(int32_t parent, int64_t start, const Function& function, const Route* route,
                 const Queue* queue, bool entry);
  Outcome RunPlan(int32_t parent, int64_t ready, const Function& function, size_t step_limit,
                  bool* completed);
  Outcome RunRepeated(int32_t parent, int64_t start, const Function& function, const Step& step);
  Outcome RunWithRetry(int32_t parent, int64_t start, const Function& function, const Step& step);
  Outcome Attempt(int32_t parent, int64_t start, const Function& function, const Step& step,
                  int attempt);
  Outcome RunQuery(int32_t parent, int64_t start, const Function& function,
                   const DbOperation& operation, int attempt);
  Outcome RunCall(int32_t parent, int64_t start, const Function& function, const Route& route,
                  int attempt);
  Outcome CallOwnFunction(int32_t client, int64_t start, const Route& route);
  Outcome CallThirdParty(int64_t start, const Route& route);
  Outcome RunPublish(int32_t parent, int64_t start, const Function& function, const Queue& queue,
                     int attempt);
  Outcome RunCompute(int32_t parent, int64_t start, const Function& function,
                     const Computation& computation);

  Rng rng_;
  IncidentSchedule incidents_;
  UserPopulation users_;
  Trace* trace_ = nullptr;
  int64_t max_spans_ = 0;
};

void TraceBuilder::Build(int64_t start, int64_t max_spans, Trace* trace) {
  trace_ = trace;
  max_spans_ = max_spans;
  trace->spans.clear();
  trace->id_high = rng_.Next();
  trace->id_low = rng_.Next();
  trace->region = &PickRegion();
  trace->user = rng_.Chance(kAnonymousBp) ? 0 : users_.Draw(rng_);
  ServeAtGateway(start, PickEntryRoute());
}

const Route& TraceBuilder::PickEntryRoute() {
  uint32_t total = 0;
  for (const WeightedRoute& entry : kEntryRoutes) total += entry.weight;
  uint32_t point = rng_.Below(total);
  for (const WeightedRoute& entry : kEntryRoutes) {
    if (point < entry.weight) return *entry.route;
    point -= entry.weight;
  }
  return *kEntryRoutes[0].route;
}

const Region& TraceBuilder::PickRegion() {
  uint32_t point = rng_.Below(100);
  for (const Region& region : kRegions) {
    if (point < region.weight) return region;
    point -= region.weight;
  }
  return kRegions[0];
}

// Adds a span unless the trace is full; returns its index or kNoSpan.
int32_t TraceBuilder::Open(int32_t parent, int64_t start, SpanKind kind, std::string_view service,
                           std::string_view name) {
  std::vector<Span>& spans = trace_->spans;
  if (static_cast<int64_t>(spans.size()) >= max_spans_) return kNoSpan;
  const auto index = static_cast<int32_t>(spans.size());
  Span& span = spans.emplace_back();
  span.start = start;
  do {
    span.id = rng_.Next();
  } while (span.id == 0);
  span.parent = parent;
  span.invocation = parent == kNoSpan ? index : spans[static_cast<size_t>(parent)].invocation;
  span.kind = kind;
  span.service = service;
  span.name = name;
  return index;
}

void TraceBuilder::Finish(int32_t index, const Outcome& outcome, SpanStatus success_status) {
  Span& span = At(index);
  span.duration = outcome.end - span.start;
  if (outcome.failed()) {
    span.status = SpanStatus::kError;
    span.error_type = outcome.error_type;
    span.status_message = outcome.error_message;
  } else {
    span.status = success_status;
  }
}

Outcome TraceBuilder::Fail(int64_t start, const Failure& failure) {
  Outcome outcome;
  outcome.end = start + (failure.timeout_ns > 0 ? failure.timeout_ns + rng_.Between(0, Ms(5))
                                                : rng_.Between(Us(300), Ms(4)));
  outcome.http_status = failure.response_status;
  outcome.error_type = failure.type;
  outcome.error_message = failure.message;
  outcome.handler_status = failure.handler_status;
  outcome.retryable = failure.retryable;
  return outcome;
}

void TraceBuilder::ServeAtGateway(int64_t start, const Route& route) {
  const int32_t root = Open(kNoSpan, start, SpanKind::kServer, "api-gateway", route.endpoint);
  At(root).route = &route;
  At(root).has_user = trace_->user != 0;
  Outcome outcome = GatewayResponse(root, start, route);
  if (outcome.failed()) outcome.error_message = GatewayMessage(outcome.http_status);
  const bool answered_4xx = outcome.http_status >= 400 && !outcome.failed();
  Finish(root, outcome, answered_4xx ? SpanStatus::kUnset : SpanStatus::kOk);
  At(root).http_status = outcome.http_status;
}

Outcome TraceBuilder::GatewayResponse(int32_t root, int64_t start, const Route& route) {
  const uint32_t roll = rng_.Below(kAlways);
  if (roll < kUnauthorizedBp + kRateLimitedBp + kThrottledBp) {
    const int64_t end = start + Draw(kAuthorizerLatency);
    if (roll < kUnauthorizedBp) return Succeeded(end, 401);
    if (roll < kUnauthorizedBp + kRateLimitedBp) return Succeeded(end, 429);
    Outcome throttled = Fail(start, kFunctionThrottled);
    throttled.http_status = kFunctionThrottled.handler_status;
    return throttled;
  }
  Outcome handled =
      Invoke(root, start + Draw(kIntegrationLatency), *route.handler, &route, nullptr, true);
  handled.end += Draw(kGatewayResponseLatency);
  return handled;
}

// Runs a function for an HTTP request (`route`) or a message (`queue`).
Outcome TraceBuilder::Invoke(int32_t parent, int64_t start, const Function& function,
                             const Route* route, const Queue* queue, bool entry) {
  const int success_status = route != nullptr ? route->success_status : 0;
  const int32_t index =
      Open(parent, start, queue != nullptr ? SpanKind::kConsumer : SpanKind::kServer,
           function.service, queue != nullptr ? queue->process_name : function.name);
  if (index == kNoSpan) return Succeeded(start, success_status);
  const int64_t init = rng_.Chance(kColdStartBp) ? rng_.Between(Ms(150), Ms(900)) : 0;
  {
    Span& span = At(index);
    span.invocation = index;
    span.function = &function;
    span.route = route;
    span.queue = queue;
    span.has_user = entry && trace_->user != 0;
    span.init_ns = init;
  }
  const ClientError* client_error = route != nullptr && rng_.Chance(route->client_error.chance_bp)
                                        ? &route->client_error
                                        : nullptr;
  const size_t answer_before = client_error ? client_error->after_step : function.plan.size();
  const size_t bug_before =
      rng_.Chance(kHandlerBugBp) ? rng_.Below(function.plan.size() + 1) : SIZE_MAX;
  const bool bug_first = bug_before < answer_before;

  bool completed = false;
  Outcome outcome = RunPlan(index, start + init + Draw(kHandlerStartup), function,
                            std::min(answer_before, bug_before), &completed);
  if (completed && bug_first) {
    outcome = Fail(outcome.end, rng_.Pick(kHandlerBugs));
  }
  outcome.end += Draw(kHandlerShutdown);
  outcome.retryable = false;
  if (outcome.failed()) {
    outcome.http_status = outcome.handler_status;
  } else if (completed && client_error != nullptr) {
    outcome.http_status = client_error->status;
    At(index).client_error = client_error->reason;
  } else {
    outcome.http_status = success_status;
  }
  const bool answered_4xx = outcome.http_status >= 400 && !outcome.failed();
  Finish(index, outcome, answered_4xx ? SpanStatus::kUnset : SpanStatus::kOk);
  if (route != nullptr) At(index).http_status = outcome.http_status;
  return outcome;
}

// Runs the first `step_limit` steps of the plan; `completed` tells whether it got that far
// (rather than stopping at a cache hit or a failure).
Outcome TraceBuilder::RunPlan(int32_t parent, int64_t ready, const Function& function,
                              size_t step_limit, bool* completed) {
  int64_t group_start = ready;  // start of the last step that was not concurrent
  int64_t finished = ready;     // when everything issued so far has finished
  *completed = false;
  for (size_t i = 0; i < std::min(step_limit, function.plan.size()); ++i) {
    const Step& step = function.plan[i];
    if (!rng_.Chance(step.chance_bp)) continue;
    const int64_t start = step.concurrent ? group_start + Jitter() : finished + Gap();
    if (!step.concurrent) group_start = start;
    Outcome outcome = RunRepeated(parent, start, function, step);
    finished = std::max(finished, outcome.end);
    if (outcome.failed() && !step.best_effort) {
      outcome.end = finished;
      return outcome;
    }
    if (step.cache && !outcome.failed() && rng_.Chance(kCacheHitBp)) return Succeeded(finished);
  }
  *completed = true;
  return Succeeded(finished);
}

Outcome TraceBuilder::RunRepeated(int32_t parent, int64_t start, const Function& function,
                                  const Step& step) {
  const uint32_t repeats = 1 + rng_.Below(static_cast<uint64_t>(step.max_repeats));
  Outcome last = RunWithRetry(parent, start, function, step);
  int64_t finished = last.end;
  for (uint32_t i = 1; i < repeats && !last.failed(); ++i) {
    const int64_t next = step.fan_out ? start + Jitter() * i : last.end + Gap();
    last = RunWithRetry(parent, next, function, step);
    finished = std::max(finished, last.end);
  }
  last.end = finished;
  return last;
}

Outcome TraceBuilder::RunWithRetry(int32_t parent, int64_t start, const Function& function,
                                   const Step& step) {
  Outcome outcome = Attempt(parent, start, function, step, 1);
  if (outcome.failed() && outcome.retryable && rng_.Chance(kRetryBp)) {
    const int64_t backoff = rng_.Between(Ms(20), Ms(120));
    outcome = Attempt(parent, outcome.end + backoff, function, step, 2);
  }
  return outcome;
}

Outcome TraceBuilder::Attempt(int32_t parent, int64_t start, const Function& function,
                              const Step& step, int attempt) {
  switch (step.kind) {
    case StepKind::kQuery:
      return RunQuery(parent, start, function, *step.query, attempt);
    case StepKind::kCall:
      return RunCall(parent, start, function, *step.call, attempt);
    case StepKind::kPublish:
      return RunPublish(parent, start, function, *step.queue, attempt);
    case StepKind::kCompute:
      return RunCompute(parent, start, function, *step.compute);
  }
  return Succeeded(start);
}

Outcome TraceBuilder::RunQuery(int32_t parent, int64_t start, const Function& function,
                               const DbOperation& operation, int attempt) {
  const int32_t index =
      Open(parent, start, SpanKind::kClient, function.service, operation.span_name);
  if (index == kNoSpan) return Succeeded(start);
  At(index).query = &operation;
  At(index).attempt = attempt;
  const bool degraded = incidents_.Degrades(operation.database, start);
  Outcome outcome;
  if (rng_.Chance(degraded ? kDegradedFailureBp : operation.system->failure_bp)) {
    outcome = Fail(start, rng_.Pick(operation.system->failures));
  } else {
    const int64_t latency = Draw(operation.latency) * (degraded ? kDegradedSlowdown : 1);
    outcome = Succeeded(start + latency);
  }
  Finish(index, outcome, SpanStatus::kUnset);
  return outcome;
}

Outcome TraceBuilder::RunCall(int32_t parent, int64_t start, const Function& function,
                              const Route& route, int attempt) {
  const int32_t index = Open(parent, start, SpanKind::kClient, function.service, route.endpoint);
  if (index == kNoSpan) return Succeeded(start);
  At(index).route = &route;
  At(index).attempt = attempt;
  const Outcome outcome = route.handler != nullptr ? CallOwnFunction(index, start, route)
                                                   : CallThirdParty(start, route);
  Finish(index, outcome, SpanStatus::kUnset);
  At(index).http_status = outcome.http_status;
  return outcome;
}

Outcome TraceBuilder::CallOwnFunction(int32_t client, int64_t start, const Route& route) {
  if (rng_.Chance(kNetworkFailureBp)) return Fail(start, rng_.Pick(kNetworkFailures));
  const int64_t one_way = Draw(kNetworkRoundTrip) / 2;
  Outcome served = Invoke(client, start + one_way, *route.handler, &route, nullptr, false);
  served.end += one_way;
  if (served.failed()) served.error_message = RequestFailedMessage(served.http_status);
  return served;
}

Outcome TraceBuilder::CallThirdParty(int64_t start, const Route& route) {
  if (rng_.Chance(route.failure_bp)) return Fail(start, rng_.Pick(route.failures));
  return Succeeded(start + Draw(route.latency), route.success_status);
}

// The consumer's span is a child of the producer's, and a child must lie within its parent, so
// the producer's span lasts until the message has been processed.
Outcome TraceBuilder::RunPublish(int32_t parent, int64_t start, const Function& function,
                                 const Queue& queue, int attempt) {
  const int32_t index =
      Open(parent, start, SpanKind::kProducer, function.service, queue.publish_name);
  if (index == kNoSpan) return Succeeded(start);
  At(index).queue = &queue;
  At(index).attempt = attempt;
  Outcome outcome;
  if (rng_.Chance(kQueueFailureBp)) {
    outcome = Fail(start, rng_.Pick(kQueueFailures));
  } else {
    const int64_t acknowledged = start + Draw(queue.publish_latency);
    const int64_t delivered = acknowledged + Draw(kQueueDelivery);
    // A failing consumer is retried by the queue; the publisher never hears of it.
    const Outcome consumed = Invoke(index, delivered, *queue.consumer, nullptr, &queue, false);
    outcome = Succeeded(std::max(acknowledged, consumed.end));
  }
  Finish(index, outcome, SpanStatus::kUnset);
  return outcome;
}

Outcome TraceBuilder::RunCompute(int32_t parent, int64_t start, const Function& function,
                                 const Computation& computation) {
  const int32_t index =
      Open(parent, start, SpanKind::kInternal, function.service, computation.name);
  if (index == kNoSpan) return Succeeded(start);
  const Outcome outcome = Succeeded(start + Draw(computation.latency));
  Finish(index, outcome, SpanStatus::kUnset);
  return outcome;
}

// =============================================================================================
// Writing NDJSON.

constexpr char kHexDigits[] = "0123456789abcdef";

void AppendHex(uint64_t value, fmt::memory_buffer& out) {
  char text[16];
  for (int i = 15; i >= 0; --i) {
    text[i] = kHexDigits[value & 15];
    value >>= 4;
  }
  out.append(text, text + 16);
}

// A UUID-shaped id (Lambda request ids look like this), derived from a span id.
void AppendRequestId(uint64_t span_id, fmt::memory_buffer& out) {
  uint64_t state = span_id;
  char hex[32];
  for (int half = 0; half < 2; ++half) {
    uint64_t bits = SplitMix64(&state);
    for (int i = 15; i >= 0; --i) {
      hex[half * 16 + i] = kHexDigits[bits & 15];
      bits >>= 4;
    }
  }
  const std::string_view text(hex, 32);
  fmt::format_to(std::back_inserter(out), "{}-{}-{}-{}-{}", text.substr(0, 8), text.substr(8, 4),
                 text.substr(12, 4), text.substr(16, 4), text.substr(20, 12));
}

void AppendJsonEscaped(std::string_view text, fmt::memory_buffer& out) {
  size_t clean = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out.append(text.data() + clean, text.data() + i);
    switch (c) {
      case '"':
        out.append(std::string_view("\\\""));
        break;
      case '\\':
        out.append(std::string_view("\\\\"));
        break;
      case '\n':
        out.append(std::string_view("\\n"));
        break;
      case '\t':
        out.append(std::string_view("\\t"));
        break;
      default:
        fmt::format_to(std::back_inserter(out), "\\u{:04x}", c);
    }
    clean = i + 1;
  }
  out.append(text.data() + clean, text.data() + text.size());
}

int64_t FloorDiv(int64_t a, int64_t b) {
  return a / b - (a % b < 0 ? 1 : 0);
}

// RFC 3339 in UTC with nine fraction digits; the date part is formatted once per day.
class TimestampText {
 public:
  void Append(int64_t ns, fmt::memory_buffer& out) {
    const int64_t seconds = FloorDiv(ns, kNanosPerSecond);
    const int64_t day = FloorDiv(seconds, 86400);
    if (day != day_) FormatDate(day);
    out.append(date_, date_ + date_size_);
    int64_t second_of_day = seconds - day * 86400;
    int64_t fraction = ns - seconds * kNanosPerSecond;
    char text[19] = {'0', '0', ':', '0', '0', ':', '0', '0', '.'};
    for (int i = 17; i >= 9; --i, fraction /= 10) text[i] = static_cast<char>('0' + fraction % 10);
    text[18] = 'Z';
    const int64_t parts[3] = {second_of_day / 3600, second_of_day / 60 % 60, second_of_day % 60};
    for (int i = 0; i < 3; ++i) {
      text[i * 3] = static_cast<char>('0' + parts[i] / 10);
      text[i * 3 + 1] = static_cast<char>('0' + parts[i] % 10);
    }
    out.append(text, text + sizeof(text));
  }

 private:
  void FormatDate(int64_t day) {
    int64_t year;
    unsigned month, day_of_month;
    CivilFromDays(day, &year, &month, &day_of_month);
    const auto result =
        fmt::format_to_n(date_, sizeof(date_), "{:04}-{:02}-{:02}T", year, month, day_of_month);
    date_size_ = std::min(result.size, sizeof(date_));
    day_ = day;
  }

  int64_t day_ = INT64_MIN;
  char date_[24] = {};
  size_t date_size_ = 0;
};

// Writes one JSON value with keys in the order of the calls. Keys are never escaped (they are
// ours); string values are, except in Formatted() whose caller promises plain text.
class JsonWriter {
 public:
  JsonWriter(fmt::memory_buffer* out, TimestampText* timestamps)
      : out_(out), timestamps_(timestamps) {}

  void BeginObject(std::string_view key = {}) { Open(key, '{'); }
  void EndObject() { Close('}'); }
  void BeginArray(std::string_view key) { Open(key, '['); }
  void EndArray() { Close(']'); }

  void String(std::string_view key, std::string_view value) {
    Key(key);
    out_->push_back('"');
    AppendJsonEscaped(value, *out_);
    out_->push_back('"');
  }
  template <typename... Args>
  void Formatted(std::string_view key, fmt::format_string<Args...> format, Args&&... args) {
    Key(key);
    out_->push_back('"');
    fmt::format_to(std::back_inserter(*out_), format, std::forward<Args>(args)...);
    out_->push_back('"');
  }
  void Int(std::string_view key, int64_t value) {
    Key(key);
    const fmt::format_int text(value);
    out_->append(text.data(), text.data() + text.size());
  }
  // A decimal amount: 1250 cents is 12.50.
  void Cents(std::string_view key, int64_t cents) {
    Key(key);
    fmt::format_to(std::back_inserter(*out_), "{}.{:02}", cents / 100, cents % 100);
  }
  void Bool(std::string_view key, bool value) {
    Key(key);
    out_->append(value ? std::string_view("true") : std::string_view("false"));
  }
  void Hex(std::string_view key, uint64_t value) {
    Key(key);
    out_->push_back('"');
    AppendHex(value, *out_);
    out_->push_back('"');
  }
  void Hex(std::string_view key, uint64_t high, uint64_t low) {
    Key(key);
    out_->push_back('"');
    AppendHex(high, *out_);
    AppendHex(low, *out_);
    out_->push_back('"');
  }
  void RequestId(std::string_view key, uint64_t span_id) {
    Key(key);
    out_->push_back('"');
    AppendRequestId(span_id, *out_);
    out_->push_back('"');
  }
  void Timestamp(std::string_view key, int64_t ns) {
    Key(key);
    out_->push_back('"');
    timestamps_->Append(ns, *out_);
    out_->push_back('"');
  }
  void EndLine() { out_->push_back('\n'); }

 private:
  void Key(std::string_view key) {
    if (need_comma_) out_->push_back(',');
    need_comma_ = true;
    if (key.empty()) return;  // an array element or the top-level value
    out_->push_back('"');
    out_->append(key);
    out_->append(std::string_view("\":"));
  }
  void Open(std::string_view key, char bracket) {
    Key(key);
    out_->push_back(bracket);
    need_comma_ = false;
  }
  void Close(char bracket) {
    out_->push_back(bracket);
    need_comma_ = true;
  }

  fmt::memory_buffer* out_;
  TimestampText* timestamps_;
  bool need_comma_ = false;
};

std::string_view KindName(SpanKind kind) {
  switch (kind) {
    case SpanKind::kServer:
      return "server";
    case SpanKind::kClient:
      return "client";
    case SpanKind::kInternal:
      return "internal";
    case SpanKind::kProducer:
      return "producer";
    case SpanKind::kConsumer:
      return "consumer";
  }
  return "internal";
}

std::string_view StatusName(SpanStatus status) {
  switch (status) {
    case SpanStatus::kUnset:
      return "unset";
    case SpanStatus::kOk:
      return "ok";
    case SpanStatus::kError:
      return "error";
  }
  return "unset";
}

// Request bodies and messages, drawn from the span id so that they cost no draws elsewhere.
class PayloadWriter {
 public:
  PayloadWriter(const Span& span, const Region& region, JsonWriter* json)
      : rng_(Mix(span.id ^ kPayloadStream)), region_(region), json_(*json) {}

  void Write(Payload payload) {
    json_.BeginObject("payload");
    switch (payload) {
      case Payload::kNone:
        break;
      case Payload::kCartItem:
        CartItem();
        break;
      case Payload::kCheckout:
        Checkout();
        break;
      case Payload::kPayment:
        Payment();
        break;
      case Payload::kProfile:
        Profile();
        break;
      case Payload::kOrderEvent:
        OrderEvent();
        break;
      case Payload::kSignupEvent:
        SignupEvent();
        break;
      case Payload::kStockEvent:
        StockEvent();
        break;
    }
    json_.EndObject();
  }

 private:
  void Sku() { json_.Formatted("sku", "SKU-{}", rng_.Between(10000, 19999)); }
  int64_t Price() { return rng_.Between(3, 90) * 100 - 1; }  // 2.99 .. 89.99

  void CartItem() {
    json_.BeginObject("item");
    Sku();
    json_.Int("qty", rng_.Between(1, 3));
    json_.Cents("unit_price", Price());
    json_.EndObject();
    json_.String("currency", region_.currency);
  }

  void Checkout() {
    json_.BeginObject("cart");
    json_.BeginArray("items");
    int64_t total = 0;
    for (int64_t i = 0, items = rng_.Between(1, 4); i < items; ++i) {
      const int64_t qty = rng_.Between(1, 3);
      total += qty * Price();
      json_.BeginObject();
      Sku();
      json_.Int("qty", qty);
      json_.EndObject();
    }
    json_.EndArray();
    json_.Cents("total", total);
    json_.EndObject();
    json_.String("currency", region_.currency);
    json_.BeginObject("shipping");
    json_.String("method", rng_.Chance(7500) ? "standard" : "express");
    json_.String("country", rng_.Pick(region_.countries));
    json_.EndObject();
  }

  void Payment() {
    static constexpr std::string_view kBrands[] = {"visa", "mastercard", "amex"};
    json_.Cents("amount", rng_.Between(300, 40000));
    json_.String("currency", region_.currency);
    json_.BeginObject("method");
    json_.String("type", "card");
    json_.String("brand", rng_.Pick(kBrands));
    json_.Formatted("last4", "{:04}", rng_.Between(0, 9999));
    json_.EndObject();
    json_.Hex("idempotency_key", rng_.Next());
  }

  void Profile() {
    static constexpr std::string_view kNames[] = {"Alex", "Sam", "Robin", "Kim", "Noa", "Jules"};
    json_.String("display_name", rng_.Pick(kNames));
    json_.String("locale", rng_.Pick(region_.locales));
    json_.Bool("marketing_opt_in", rng_.Chance(3000));
  }

  void OrderEvent() {
    json_.String("event", "order.placed");
    json_.BeginObject("order");
    json_.Formatted("id", "ord-{:08x}", rng_.Next() >> 32);
    json_.Int("items", rng_.Between(1, 8));
    json_.Cents("total", rng_.Between(300, 40000));
    json_.EndObject();
    json_.String("currency", region_.currency);
  }

  void SignupEvent() {
    static constexpr std::string_view kReferrers[] = {"search", "newsletter", "friend", "ads"};
    json_.String("event", "user.registered");
    json_.String("locale", rng_.Pick(region_.locales));
    json_.String("referrer", rng_.Pick(kReferrers));
  }

  void StockEvent() {
    json_.String("event", "stock.low");
    Sku();
    json_.Int("on_hand", rng_.Between(0, 5));
  }

  Rng rng_;
  const Region& region_;
  JsonWriter& json_;
};

void WriteSpan(const Trace& trace, const Span& span, TimestampText* timestamps,
               fmt::memory_buffer* out) {
  JsonWriter json(out, timestamps);
  json.BeginObject();
  json.Timestamp("timestamp", span.start);
  json.Int("duration", span.duration);
  json.Hex("trace_id", trace.id_high, trace.id_low);
  json.Hex("span_id", span.id);
  if (span.parent != kNoSpan) json.Hex("parent_id", trace.spans[span.parent].id);
  json.String("name", span.name);
  json.String("service", span.service);
  json.String("kind", KindName(span.kind));
  json.String("status", StatusName(span.status));
  if (span.status == SpanStatus::kError) json.String("status_message", span.status_message);
  if (span.route != nullptr) {
    json.BeginObject("http");
    json.String("method", span.route->method());
    json.String("route", span.route->path());
    if (span.http_status != 0) json.Int("status_code", span.http_status);
    json.EndObject();
  }
  if (span.has_user) {
    json.BeginObject("user");
    json.Formatted("id", "user-{:05}", trace.user);
    json.EndObject();
  }
  json.BeginObject("cloud");
  json.String("region", trace.region->name);
  json.EndObject();
  if (span.function != nullptr) {
    json.BeginObject("faas");
    json.String("name", span.function->name);
    json.Bool("coldstart", span.init_ns > 0);
    json.EndObject();
  }
  if (span.query != nullptr) {
    json.BeginObject("db");
    json.String("system", span.query->system->name);
    json.String("name", span.query->database);
    json.String("statement", span.query->statement);
    json.EndObject();
  }
  if (span.queue != nullptr) {
    json.BeginObject("messaging");
    json.String("system", span.queue->system);
    json.String("destination", span.queue->destination);
    json.EndObject();
  }
  if (span.status == SpanStatus::kError) {
    json.BeginObject("error");
    json.String("type", span.error_type);
    json.EndObject();
  }
  if (span.function != nullptr && span.function->payload != Payload::kNone) {
    PayloadWriter(span, *trace.region, &json).Write(span.function->payload);
  }
  json.EndObject();
  json.EndLine();
}

// Log records for spans: 0 to 3 per span, each inside its span's time range.
class LogWriter {
 public:
  LogWriter(uint64_t seed, fmt::memory_buffer* out)
      : rng_(Mix(seed ^ kLogStream)), out_(out), message_json_(&message_, &timestamps_) {}

  // Returns the number of records written.
  int Write(const Trace& trace, const Span& span);

 private:
  int64_t Within(const Span& span) { return span.start + rng_.Between(0, span.duration); }
  void Record(const Trace& trace, const Span& span, int64_t at, std::string_view severity);
  JsonWriter& BeginJsonMessage(std::string_view level);
  template <typename... Args>
  void Text(fmt::format_string<Args...> format, Args&&... args) {
    message_.clear();
    fmt::format_to(std::back_inserter(message_), format, std::forward<Args>(args)...);
  }
  int FunctionLogs(const Trace& trace, const Span& span);
  int GatewayLog(const Trace& trace, const Span& span);
  int ChatterLog(const Trace& trace, const Span& span);
  void ErrorLog(const Trace& trace, const Span& span);
  void ReportLog(const Trace& trace, const Span& span);

  Rng rng_;
  fmt::memory_buffer* out_;
  fmt::memory_buffer message_;
  TimestampText timestamps_;
  JsonWriter message_json_;
};

// "12.34": milliseconds with two decimals, as Lambda reports them.
struct Millis {
  int64_t ns;
};

}  // namespace
}  // namespace tql::gen

template <>
struct fmt::formatter<tql::gen::Millis> : fmt::formatter<std::string_view> {
  template <typename FormatContext>
  auto format(tql::gen::Millis millis, FormatContext& context) const {
    return fmt::format_to(context.out(), "{}.{:02}", millis.ns / tql::kNanosPerMilli,
                          millis.ns / 10'000 % 100);
  }
};

namespace tql::gen {
namespace {

int LogWriter::Write(const Trace& trace, const Span& span) {
  int written = 0;
  if (span.function != nullptr) {
    written += FunctionLogs(trace, span);
  } else if (span.kind == SpanKind::kServer) {
    written += GatewayLog(trace, span);
  } else {
    written += ChatterLog(trace, span);
  }
  if (span.attempt > 1) {
    Text("retrying {} (attempt {})", span.name, span.attempt);
    Record(trace, span, span.start, "WARN");
    ++written;
  }
  if (span.status == SpanStatus::kError) {
    ErrorLog(trace, span);
    ++written;
  }
  return written;
}

JsonWriter& LogWriter::BeginJsonMessage(std::string_view level) {
  message_.clear();
  message_json_ = JsonWriter(&message_, &timestamps_);
  message_json_.BeginObject();
  message_json_.String("level", level);
  return message_json_;
}

int LogWriter::FunctionLogs(const Trace& trace, const Span& span) {
  const Function& function = *span.function;
  const bool json = function.log_style == LogStyle::kJson;
  int written = 0;
  if (!span.client_error.empty()) {
    if (json) {
      JsonWriter& message = BeginJsonMessage("warn");
      message.String("msg", "request rejected");
      message.String("reason", span.client_error);
      message.Int("status", span.http_status);
      message.EndObject();
    } else {
      Text("[WARN] request rejected: {} ({})", span.client_error, span.http_status);
    }
    Record(trace, span, Within(span), "WARN");
    ++written;
  } else if (span.status != SpanStatus::kError) {
    const int64_t count = rng_.Between(1, 12);
    if (json) {
      JsonWriter& message = BeginJsonMessage("info");
      message.String("msg", function.done_message);
      if (!function.counted.empty()) message.Int(function.counted, count);
      message.EndObject();
    } else if (function.counted.empty()) {
      Text("[INFO] {}", function.done_message);
    } else {
      Text("[INFO] {} {}={}", function.done_message, function.counted, count);
    }
    Record(trace, span, Within(span), "INFO");
    ++written;
  }
  ReportLog(trace, span);
  return written + 1;
}

// The platform's line at the end of each invocation.
void LogWriter::ReportLog(const Trace& trace, const Span& span) {
  const int memory = span.function->memory_mb;
  const int64_t busy = span.duration - span.init_ns;
  message_.clear();
  fmt::format_to(std::back_inserter(message_), "REPORT RequestId: ");
  AppendRequestId(span.id, message_);
  fmt::format_to(std::back_inserter(message_),
                 "\tDuration: {} ms\tBilled Duration: {} ms\tMemory Size: {} MB\tMax Memory "
                 "Used: {} MB",
                 Millis{busy}, (busy + kNanosPerMilli - 1) / kNanosPerMilli, memory,
                 rng_.Between(memory / 6, memory * 2 / 3));
  if (span.init_ns > 0) {
    fmt::format_to(std::back_inserter(message_), "\tInit Duration: {} ms", Millis{span.init_ns});
  }
  Record(trace, span, span.start + span.duration, "INFO");
}

// API Gateway's JSON access log.
int LogWriter::GatewayLog(const Trace& trace, const Span& span) {
  message_.clear();
  JsonWriter message(&message_, &timestamps_);
  message.BeginObject();
  message.RequestId("requestId", span.id);
  message.String("httpMethod", span.route->method());
  message.String("resourcePath", span.route->path());
  message.Int("status", span.http_status);
  message.Int("responseLatency", span.duration / kNanosPerMilli);
  message.EndObject();
  Record(trace, span, span.start + span.duration, "INFO");
  return 1;
}

// What libraries and handlers say about individual calls, now and then.
int LogWriter::ChatterLog(const Trace& trace, const Span& span) {
  const Millis took{span.duration};
  if (span.query != nullptr) {
    const bool slow = span.status != SpanStatus::kError && span.duration > Ms(300);
    if (slow) {
      Text("slow query ({} ms): {}", took, span.query->statement);
      Record(trace, span, span.start + span.duration, "WARN");
      return 1;
    }
    if (!rng_.Chance(2500)) return 0;
    Text("{} on {} took {} ms", span.name, span.query->database, took);
  } else if (span.route != nullptr) {
    if (!rng_.Chance(2000)) return 0;
    Text("{} responded {} in {} ms", span.name, span.http_status, took);
  } else if (span.queue != nullptr) {
    if (!rng_.Chance(5000)) return 0;
    message_.clear();
    fmt::format_to(std::back_inserter(message_), "published message ");
    AppendRequestId(span.id ^ kLogStream, message_);
    fmt::format_to(std::back_inserter(message_), " to {}", span.queue->destination);
    Record(trace, span, Within(span), "INFO");
    return 1;
  } else {
    if (!rng_.Chance(1000)) return 0;
    Text("{} took {} ms", span.name, took);
  }
  Record(trace, span, Within(span), "DEBUG");
  return 1;
}

void LogWriter::ErrorLog(const Trace& trace, const Span& span) {
  const Span& invocation = trace.spans[span.invocation];
  const bool json =
      invocation.function != nullptr && invocation.function->log_style == LogStyle::kJson;
  if (json) {
    JsonWriter& message = BeginJsonMessage("error");
    message.String("msg", span.status_message);
    message.String("errorType", span.error_type);
    message.EndObject();
  } else {
    Text("{}: {}", span.error_type, span.status_message);
  }
  const int64_t end = span.start + span.duration;
  Record(trace, span, end - rng_.Between(0, std::min<int64_t>(span.duration, Ms(1))), "ERROR");
}

void LogWriter::Record(const Trace& trace, const Span& span, int64_t at,
                       std::string_view severity) {
  const Span& invocation = trace.spans[span.invocation];
  JsonWriter json(out_, &timestamps_);
  json.BeginObject();
  json.Timestamp("timestamp", at);
  json.Hex("trace_id", trace.id_high, trace.id_low);
  json.Hex("span_id", span.id);
  json.String("severity", severity);
  json.String("service", span.service);
  json.String("message", std::string_view(message_.data(), message_.size()));
  json.RequestId("request_id", invocation.id);
  if (span.route != nullptr && span.kind == SpanKind::kServer) {
    json.BeginObject("http");
    json.String("route", span.route->path());
    json.EndObject();
  }
  json.EndObject();
  json.EndLine();
}

// Buffers whole lines and hands them to a sink about 1 MiB at a time.
class ChunkedOutput {
 public:
  explicit ChunkedOutput(const TextSink& sink) : sink_(sink) {}

  fmt::memory_buffer* buffer() { return &buffer_; }
  void FlushIfFull() {
    if (buffer_.size() >= kChunkBytes) Flush();
  }
  void Flush() {
    if (buffer_.size() == 0) return;
    sink_(std::string_view(buffer_.data(), buffer_.size()));
    buffer_.clear();
  }

 private:
  static constexpr size_t kChunkBytes = size_t{1} << 20;

  const TextSink& sink_;
  fmt::memory_buffer buffer_;
};

}  // namespace

GeneratorStats GenerateTelemetry(const GeneratorOptions& options, const TextSink& spans,
                                 const TextSink& logs) {
  GeneratorStats stats;
  TraceBuilder builder(options.seed, options.start_time_ns);
  Rng arrivals(Mix(options.seed ^ kArrivalStream));
  ChunkedOutput span_output(spans);
  ChunkedOutput log_output(logs);
  TimestampText timestamps;
  LogWriter log_writer(options.seed, log_output.buffer());
  Trace trace;
  int64_t trace_start = options.start_time_ns;
  while (stats.spans < options.spans) {
    builder.Build(trace_start, options.spans - stats.spans, &trace);
    for (const Span& span : trace.spans) {
      WriteSpan(trace, span, &timestamps, span_output.buffer());
      if (options.logs) stats.logs += log_writer.Write(trace, span);
    }
    stats.spans += static_cast<int64_t>(trace.spans.size());
    ++stats.traces;
    span_output.FlushIfFull();
    log_output.FlushIfFull();
    trace_start += DrawScaled(arrivals, kExponential, kMeanTraceGapNs);
  }
  span_output.Flush();
  log_output.Flush();
  return stats;
}

}  // namespace tql::gen
