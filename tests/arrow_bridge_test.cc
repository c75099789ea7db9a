#include "runtime/arrow_bridge.h"

#include <gtest/gtest.h>

#include <cstring>
#include <deque>

#include "tests/test_util.h"

namespace tql {
namespace {

using test::ColumnText;

Batch AllTypesBatch() {
  return test::MakeBatch({
      {"n", Vector::Nulls(TypeId::kNull, 4)},
      {"b", test::Bools({true, std::nullopt, false, true})},
      {"i", test::Int64s({1, -2, std::nullopt, INT64_MAX})},
      {"f", test::Floats({1.5, std::nullopt, -0.25, 1e300})},
      {"s", test::Strings({"api", "", std::nullopt, "h\xC3\xA9llo"})},
      {"ts", test::Int64s({0, 1795514400000000000, std::nullopt, -5}, TypeId::kTimestamp)},
      {"d", test::Int64s({250000000, std::nullopt, 3, 0}, TypeId::kDuration)},
      {"dyn", test::Strings({"{\"a\":1}", "[1,2]", std::nullopt, "null"}, TypeId::kDynamic)},
      {"dict", test::DictStrings({"x", "y"}, {1, std::nullopt, 0, 1})},
  });
}

void ExpectSameRows(const Batch& a, const Batch& b) {
  ASSERT_EQ(a.num_columns(), b.num_columns());
  ASSERT_EQ(a.num_rows(), b.num_rows());
  for (int c = 0; c < a.num_columns(); ++c) {
    EXPECT_EQ(a.schema()->field(c), b.schema()->field(c));
    EXPECT_EQ(ColumnText(a.column(c)), ColumnText(b.column(c))) << a.schema()->field(c).name;
  }
}

TEST(ArrowBridge, ExportedSchemaUsesArrowFormats) {
  Batch batch = AllTypesBatch();
  ArrowSchema schema;
  ASSERT_TRUE(ExportSchema(*batch.schema(), &schema).ok());
  EXPECT_STREQ(schema.format, "+s");
  ASSERT_EQ(schema.n_children, 9);
  const char* expected[] = {"n", "b", "l", "g", "u", "tsn:UTC", "tDn", "u", "u"};
  for (int i = 0; i < 9; ++i) EXPECT_STREQ(schema.children[i]->format, expected[i]) << i;
  EXPECT_STREQ(schema.children[1]->name, "b");
  EXPECT_EQ(schema.children[7]->metadata != nullptr, true);  // arrow.json extension
  EXPECT_EQ(schema.children[4]->metadata, nullptr);
  schema.release(&schema);
  EXPECT_EQ(schema.release, nullptr);
  // A batch's own schema keeps its dictionary column encoded.
  ASSERT_TRUE(ExportBatchSchema(batch, &schema).ok());
  EXPECT_STREQ(schema.children[8]->format, "i");
  ASSERT_NE(schema.children[8]->dictionary, nullptr);
  EXPECT_STREQ(schema.children[8]->dictionary->format, "u");
  EXPECT_STREQ(schema.children[4]->format, "u");
  schema.release(&schema);
}

TEST(ArrowBridge, RoundTripsEveryTypeWithNulls) {
  Batch batch = AllTypesBatch();
  ArrowSchema schema;
  ArrowArray array;
  ASSERT_TRUE(ExportBatchSchema(batch, &schema).ok());
  ASSERT_TRUE(ExportBatch(batch, &array).ok());
  EXPECT_EQ(array.length, 4);
  EXPECT_EQ(array.children[2]->null_count, 1);
  Result<ArrowImporter> importer = ArrowImporter::Make(schema);
  schema.release(&schema);
  ASSERT_TRUE(importer.ok()) << importer.status().ToString();
  Result<Batch> back = importer->Import(&array);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(array.release, nullptr);  // moved into the importer
  ExpectSameRows(batch, *back);
  // Zero-copy both ways: the imported vector reads the original buffer.
  EXPECT_EQ(back->column(2).int64_values(), batch.column(2).int64_values());
  EXPECT_EQ(back->column(4).string_bytes(), batch.column(4).string_bytes());
  ASSERT_TRUE(back->column(8).is_dictionary());
  EXPECT_EQ(back->column(8).dictionary_codes(), batch.column(8).dictionary_codes());
  EXPECT_EQ(back->column(8).dictionary().string_bytes(),
            batch.column(8).dictionary().string_bytes());
}

TEST(ArrowBridge, StreamKeepsDictionariesOnlyWhereEveryBatchHasThem) {
  Batch encoded = AllTypesBatch();
  std::vector<Vector> columns = encoded.columns();
  columns[8] = columns[8].Decoded();
  Batch plain(encoded.schema(), columns, encoded.num_rows());
  for (bool mixed : {false, true}) {
    Table table;
    table.schema = encoded.schema();
    table.batches = {encoded, mixed ? plain : encoded};
    ArrowArrayStream stream;
    ASSERT_TRUE(ExportTableStream(table, &stream).ok());
    Result<Table> back = ImportStream(&stream);
    ASSERT_TRUE(back.ok()) << back.status().ToString();
    for (const Batch& b : back->batches) {
      EXPECT_EQ(b.column(8).is_dictionary(), !mixed);
      ExpectSameRows(encoded, b);
    }
  }
}

TEST(ArrowBridge, ExportReleaseFreesOnlyWhenLastReferenceGoes) {
  auto batch = std::make_unique<Batch>(AllTypesBatch());
  std::weak_ptr<const Buffer> values = batch->column(2).values_buffer();
  ArrowArray array;
  ASSERT_TRUE(ExportBatch(*batch, &array).ok());
  batch.reset();
  EXPECT_FALSE(values.expired());  // the consumer still holds it
  array.release(&array);
  EXPECT_TRUE(values.expired());
}

TEST(ArrowBridge, MovedChildOutlivesItsParent) {
  Batch batch = AllTypesBatch();
  ArrowArray array;
  ASSERT_TRUE(ExportBatch(batch, &array).ok());
  ArrowArray moved = *array.children[4];  // a consumer takes one child
  array.children[4]->release = nullptr;
  array.release(&array);
  ASSERT_NE(moved.release, nullptr);
  EXPECT_EQ(moved.length, 4);
  const auto* offsets = static_cast<const int32_t*>(moved.buffers[1]);
  EXPECT_EQ(std::string(static_cast<const char*>(moved.buffers[2]) + offsets[0], 3), "api");
  moved.release(&moved);
  EXPECT_EQ(moved.release, nullptr);
}

// A hand-built producer: owns its buffers and counts release calls.
class Producer {
 public:
  int releases = 0;

  template <typename T>
  const void* Buf(std::vector<T> v) {
    auto& stored = store_.emplace_back(v.size() * sizeof(T) + 8);
    std::memcpy(stored.data(), v.data(), v.size() * sizeof(T));
    return stored.data();
  }
  const void* Bits(const std::vector<bool>& v) {
    std::vector<uint8_t> bytes((v.size() + 7) / 8 + 1, 0);
    for (size_t i = 0; i < v.size(); ++i) {
      if (v[i]) bytes[i / 8] |= static_cast<uint8_t>(1 << (i % 8));
    }
    return Buf(bytes);
  }

  ArrowArray* Leaf(int64_t length, int64_t offset, int64_t null_count,
                   std::vector<const void*> buffers) {
    ArrowArray* a = &arrays_.emplace_back();
    buffer_lists_.push_back(std::move(buffers));
    *a = ArrowArray{length,
                    null_count,
                    offset,
                    static_cast<int64_t>(buffer_lists_.back().size()),
                    0,
                    buffer_lists_.back().data(),
                    nullptr,
                    nullptr,
                    &ReleaseChild,
                    this};
    return a;
  }

  // The top-level struct: its release calls the children's and counts.
  ArrowArray Struct(int64_t length, std::vector<ArrowArray*> children, int64_t offset = 0) {
    child_lists_.push_back(std::move(children));
    static const void* no_validity[1] = {nullptr};
    return ArrowArray{length,
                      0,
                      offset,
                      1,
                      static_cast<int64_t>(child_lists_.back().size()),
                      no_validity,
                      child_lists_.back().data(),
                      nullptr,
                      &ReleaseTop,
                      this};
  }

  ArrowSchema* Field(const char* format, const char* name) {
    ArrowSchema* s = &schemas_.emplace_back();
    *s = ArrowSchema{format, name,    nullptr, ARROW_FLAG_NULLABLE,
                     0,      nullptr, nullptr, &ReleaseSchemaNoop,
                     nullptr};
    return s;
  }
  ArrowSchema StructSchema(std::vector<ArrowSchema*> children) {
    schema_lists_.push_back(std::move(children));
    return ArrowSchema{"+s",
                       "",
                       nullptr,
                       0,
                       static_cast<int64_t>(schema_lists_.back().size()),
                       schema_lists_.back().data(),
                       nullptr,
                       &ReleaseSchemaNoop,
                       nullptr};
  }

 private:
  static void ReleaseChild(ArrowArray* a) { a->release = nullptr; }
  static void ReleaseTop(ArrowArray* a) {
    for (int64_t i = 0; i < a->n_children; ++i) {
      if (a->children[i]->release) a->children[i]->release(a->children[i]);
    }
    static_cast<Producer*>(a->private_data)->releases++;
    a->release = nullptr;
  }
  static void ReleaseSchemaNoop(ArrowSchema* s) { s->release = nullptr; }

  std::deque<std::vector<uint8_t>> store_;
  std::deque<ArrowArray> arrays_;
  std::deque<std::vector<const void*>> buffer_lists_;
  std::deque<std::vector<ArrowArray*>> child_lists_;
  std::deque<ArrowSchema> schemas_;
  std::deque<std::vector<ArrowSchema*>> schema_lists_;
};

TEST(ArrowBridge, ImportCallsProducerReleaseExactlyOnceAfterLastUse) {
  Producer p;
  ArrowSchema schema = p.StructSchema({p.Field("l", "x")});
  ArrowArray array = p.Struct(3, {p.Leaf(3, 0, 0, {nullptr, p.Buf<int64_t>({7, 8, 9})})});
  auto importer = ArrowImporter::Make(schema);
  ASSERT_TRUE(importer.ok());
  Vector kept;
  {
    Result<Batch> batch = importer->Import(&array);
    ASSERT_TRUE(batch.ok()) << batch.status().ToString();
    kept = batch->column(0).Slice(1, 2);
    EXPECT_EQ(p.releases, 0);
  }
  EXPECT_EQ(p.releases, 0);  // a slice still uses the producer's memory
  EXPECT_EQ(ColumnText(kept), (std::vector<std::string>{"8", "9"}));
  kept = Vector();
  EXPECT_EQ(p.releases, 1);
}

TEST(ArrowBridge, ImportReleasesOnceEvenWhenTheBatchIsRejected) {
  Producer p;
  ArrowSchema schema = p.StructSchema({p.Field("u", "s")});
  // Offsets decrease: a malformed batch.
  ArrowArray array = p.Struct(
      2, {p.Leaf(2, 0, 0, {nullptr, p.Buf<int32_t>({0, 3, 1}), p.Buf<char>({'a', 'b', 'c'})})});
  auto importer = ArrowImporter::Make(schema);
  ASSERT_TRUE(importer.ok());
  Result<Batch> batch = importer->Import(&array);
  ASSERT_FALSE(batch.ok());
  EXPECT_NE(batch.status().message().find("offsets decrease"), std::string::npos);
  EXPECT_EQ(p.releases, 1);
}

TEST(ArrowBridge, ImportHonoursArrayOffsetsAndUnknownNullCount) {
  Producer p;
  ArrowSchema schema = p.StructSchema(
      {p.Field("l", "i"), p.Field("u", "s"), p.Field("b", "flag"), p.Field("g", "f")});
  // Each child starts 3 rows in; null_count -1 asks the consumer to count.
  std::vector<bool> valid = {true, true, true, false, true, true, false, true};
  ArrowArray array =
      p.Struct(4,
               {p.Leaf(5, 3, -1, {p.Bits(valid), p.Buf<int64_t>({0, 0, 0, 10, 11, 12, 13, 14})}),
                p.Leaf(5, 3, -1,
                       {p.Bits(valid), p.Buf<int32_t>({0, 0, 0, 0, 1, 3, 6, 6, 10}),
                        p.Buf<char>({'a', 'b', 'b', 'c', 'c', 'c', 'd', 'd', 'd', 'd'})}),
                p.Leaf(5, 3, -1, {p.Bits(valid), p.Bits({0, 0, 0, 1, 0, 1, 1, 0})}),
                p.Leaf(5, 3, 0, {nullptr, p.Buf<double>({0, 0, 0, 0.5, 1.5, 2.5, 3.5, 4.5})})},
               /*offset=*/1);
  auto importer = ArrowImporter::Make(schema);
  ASSERT_TRUE(importer.ok());
  Result<Batch> batch = importer->Import(&array);
  ASSERT_TRUE(batch.ok()) << batch.status().ToString();
  // Struct offset 1 + child offset 3: rows 4..7 of each child.
  EXPECT_EQ(ColumnText(batch->column(0)), (std::vector<std::string>{"11", "12", "null", "14"}));
  EXPECT_EQ(batch->column(0).null_count(), 1);
  EXPECT_EQ(ColumnText(batch->column(1)), (std::vector<std::string>{"bb", "ccc", "null", "dddd"}));
  EXPECT_EQ(ColumnText(batch->column(2)),
            (std::vector<std::string>{"false", "true", "null", "false"}));
  EXPECT_EQ(ColumnText(batch->column(3)), (std::vector<std::string>{"1.5", "2.5", "3.5", "4.5"}));
}

TEST(ArrowBridge, ImportsDictionariesAndConvertsNarrowTypes) {
  Producer p;
  ArrowSchema dict_values{"u",    "",      nullptr, 0,
                          0,      nullptr, nullptr, [](ArrowSchema* s) { s->release = nullptr; },
                          nullptr};
  ArrowSchema* service = p.Field("c", "service");
  service->dictionary = &dict_values;
  ArrowSchema schema =
      p.StructSchema({service, p.Field("i", "n32"), p.Field("tsu:UTC", "ts"), p.Field("tDm", "d"),
                      p.Field("tdD", "day"), p.Field("f", "f32"), p.Field("U", "big")});
  ArrowArray* codes = p.Leaf(3, 0, 0, {nullptr, p.Buf<int8_t>({1, 0, 1})});
  codes->dictionary = p.Leaf(
      2, 0, 0,
      {nullptr, p.Buf<int32_t>({0, 3, 8}), p.Buf<char>({'a', 'p', 'i', 'c', 'a', 'r', 't', 's'})});
  ArrowArray array = p.Struct(
      3, {codes, p.Leaf(3, 0, 0, {nullptr, p.Buf<int32_t>({-1, 0, 2147483647})}),
          p.Leaf(3, 0, 0, {nullptr, p.Buf<int64_t>({1, 1000000, -1})}),
          p.Leaf(3, 0, 0, {nullptr, p.Buf<int64_t>({250, 1, 0})}),
          p.Leaf(3, 0, 0, {nullptr, p.Buf<int32_t>({0, 1, -1})}),
          p.Leaf(3, 0, 0, {nullptr, p.Buf<float>({0.5f, -2.0f, 3.0f})}),
          p.Leaf(3, 0, 0,
                 {nullptr, p.Buf<int64_t>({0, 2, 2, 5}), p.Buf<char>({'h', 'i', 'y', 'o', 'u'})})});
  auto importer = ArrowImporter::Make(schema);
  ASSERT_TRUE(importer.ok()) << importer.status().ToString();
  const Schema& s = *importer->schema();
  EXPECT_EQ(s.field(0).type, TypeId::kString);
  EXPECT_EQ(s.field(2).type, TypeId::kTimestamp);
  EXPECT_EQ(s.field(3).type, TypeId::kDuration);
  EXPECT_EQ(s.field(4).type, TypeId::kTimestamp);
  Result<Batch> batch = importer->Import(&array);
  ASSERT_TRUE(batch.ok()) << batch.status().ToString();
  EXPECT_TRUE(batch->column(0).is_dictionary());
  EXPECT_EQ(ColumnText(batch->column(0)), (std::vector<std::string>{"carts", "api", "carts"}));
  EXPECT_EQ(ColumnText(batch->column(1)), (std::vector<std::string>{"-1", "0", "2147483647"}));
  EXPECT_EQ(ColumnText(batch->column(2)),
            (std::vector<std::string>{"1000", "1000000000", "-1000"}));
  EXPECT_EQ(ColumnText(batch->column(3)), (std::vector<std::string>{"250000000", "1000000", "0"}));
  EXPECT_EQ(ColumnText(batch->column(4)),
            (std::vector<std::string>{"0", "86400000000000", "-86400000000000"}));
  EXPECT_EQ(ColumnText(batch->column(5)), (std::vector<std::string>{"0.5", "-2", "3"}));
  EXPECT_EQ(ColumnText(batch->column(6)), (std::vector<std::string>{"hi", "", "you"}));
}

TEST(ArrowBridge, RejectsOutOfRangeDictionaryCodes) {
  Producer p;
  ArrowSchema dict_values{"u",    "",      nullptr, 0,
                          0,      nullptr, nullptr, [](ArrowSchema* s) { s->release = nullptr; },
                          nullptr};
  ArrowSchema* service = p.Field("i", "service");
  service->dictionary = &dict_values;
  ArrowSchema schema = p.StructSchema({service});
  ArrowArray* codes = p.Leaf(2, 0, 0, {nullptr, p.Buf<int32_t>({0, 5})});
  codes->dictionary = p.Leaf(1, 0, 0, {nullptr, p.Buf<int32_t>({0, 1}), p.Buf<char>({'a'})});
  ArrowArray array = p.Struct(2, {codes});
  auto importer = ArrowImporter::Make(schema);
  ASSERT_TRUE(importer.ok());
  Result<Batch> batch = importer->Import(&array);
  ASSERT_FALSE(batch.ok());
  EXPECT_NE(batch.status().message().find("service"), std::string::npos);
  EXPECT_NE(batch.status().message().find("out of range"), std::string::npos);
}

TEST(ArrowBridge, RejectsInvalidUtf8WithRow) {
  Producer p;
  ArrowSchema schema = p.StructSchema({p.Field("u", "msg")});
  ArrowArray array = p.Struct(
      2, {p.Leaf(2, 0, 0,
                 {nullptr, p.Buf<int32_t>({0, 2, 4}), p.Buf<char>({'o', 'k', '\xC3', 'x'})})});
  auto importer = ArrowImporter::Make(schema);
  Result<Batch> batch = importer->Import(&array);
  ASSERT_FALSE(batch.ok());
  EXPECT_NE(batch.status().message().find("row 1: invalid UTF-8"), std::string::npos)
      << batch.status().message();
}

TEST(ArrowBridge, RejectsWrongBufferCount) {
  Producer p;
  ArrowSchema schema = p.StructSchema({p.Field("l", "x")});
  ArrowArray array = p.Struct(1, {p.Leaf(1, 0, 0, {nullptr})});
  auto importer = ArrowImporter::Make(schema);
  Result<Batch> batch = importer->Import(&array);
  ASSERT_FALSE(batch.ok());
  EXPECT_NE(batch.status().message().find("buffers"), std::string::npos);
}

TEST(ArrowBridge, UnsupportedTypeNamesColumnAndType) {
  Producer p;
  ArrowSchema schema = p.StructSchema({p.Field("l", "ok"), p.Field("+l", "tags")});
  auto importer = ArrowImporter::Make(schema);
  ASSERT_FALSE(importer.ok());
  EXPECT_EQ(importer.status().code(), StatusCode::kUnsupported);
  EXPECT_NE(importer.status().message().find("'tags'"), std::string::npos);
  EXPECT_NE(importer.status().message().find("list"), std::string::npos);
  ArrowSchema decimal = p.StructSchema({p.Field("d:10,2", "price")});
  auto importer2 = ArrowImporter::Make(decimal);
  ASSERT_FALSE(importer2.ok());
  EXPECT_NE(importer2.status().message().find("decimal"), std::string::npos);
}

TEST(ArrowBridge, NestedStructsBecomeDottedColumnsWithParentNulls) {
  Producer p;
  ArrowSchema* http = p.Field("+s", "http");
  ArrowSchema* status = p.Field("l", "status");
  ArrowSchema* route = p.Field("u", "route");
  static ArrowSchema* http_children[2];
  http_children[0] = status;
  http_children[1] = route;
  http->n_children = 2;
  http->children = http_children;
  ArrowSchema schema = p.StructSchema({p.Field("l", "id"), http});
  ArrowArray* http_array = p.Leaf(3, 0, 1, {p.Bits({true, false, true})});
  static ArrowArray* http_array_children[2];
  http_array_children[0] = p.Leaf(3, 0, 0, {nullptr, p.Buf<int64_t>({200, 500, 404})});
  http_array_children[1] =
      p.Leaf(3, 0, 0, {nullptr, p.Buf<int32_t>({0, 1, 2, 3}), p.Buf<char>({'a', 'b', 'c'})});
  http_array->n_children = 2;
  http_array->children = http_array_children;
  ArrowArray array =
      p.Struct(3, {p.Leaf(3, 0, 0, {nullptr, p.Buf<int64_t>({1, 2, 3})}), http_array});
  auto importer = ArrowImporter::Make(schema);
  ASSERT_TRUE(importer.ok()) << importer.status().ToString();
  EXPECT_EQ(importer->schema()->ToString(), "id: int, http.status: int, http.route: string");
  Result<Batch> batch = importer->Import(&array);
  ASSERT_TRUE(batch.ok()) << batch.status().ToString();
  EXPECT_EQ(ColumnText(batch->column(1)), (std::vector<std::string>{"200", "null", "404"}));
  EXPECT_EQ(ColumnText(batch->column(2)), (std::vector<std::string>{"a", "null", "c"}));
}

TEST(ArrowBridge, StreamRoundTripReleasesTheStream) {
  Batch batch = AllTypesBatch();
  Table table;
  table.schema = batch.schema();
  table.batches = {batch, batch.Slice(1, 3), batch.Slice(0, 0)};
  ArrowArrayStream stream;
  ASSERT_TRUE(ExportTableStream(table, &stream).ok());
  Result<Table> back = ImportStream(&stream);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(stream.release, nullptr);
  ASSERT_EQ(back->batches.size(), 3u);
  ExpectSameRows(table.batches[0], back->batches[0]);
  ExpectSameRows(table.batches[1], back->batches[1]);
  EXPECT_EQ(back->batches[2].num_rows(), 0);
}

TEST(ArrowBridge, StreamErrorsCarryTheProducersMessage) {
  struct Failing {
    static int GetSchema(ArrowArrayStream*, ArrowSchema*) { return 5; }
    static int GetNext(ArrowArrayStream*, ArrowArray*) { return 5; }
    static const char* LastError(ArrowArrayStream*) { return "disk on fire"; }
    static void Release(ArrowArrayStream* s) {
      ++*static_cast<int*>(s->private_data);
      s->release = nullptr;
    }
  };
  int releases = 0;
  ArrowArrayStream stream{&Failing::GetSchema, &Failing::GetNext, &Failing::LastError,
                          &Failing::Release, &releases};
  Result<Table> t = ImportStream(&stream);
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.status().message().find("disk on fire"), std::string::npos);
  EXPECT_EQ(releases, 1);
}

}  // namespace
}  // namespace tql
