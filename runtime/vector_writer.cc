#include "runtime/vector_writer.h"

#include <limits>

namespace tql {

VectorWriter::VectorWriter(TypeId type, int64_t length) : type_(type), length_(length) {
  validity_ = Buffer::Allocate(static_cast<size_t>(bits::BytesFor(length)));
  switch (type) {
    case TypeId::kNull:
      break;
    case TypeId::kBool:
      values_ = Buffer::Allocate(static_cast<size_t>(bits::BytesFor(length)));
      break;
    case TypeId::kInt:
    case TypeId::kTimestamp:
    case TypeId::kDuration:
    case TypeId::kFloat:
      values_ = Buffer::Allocate(static_cast<size_t>(length) * 8);
      break;
    case TypeId::kString:
    case TypeId::kDynamic:
      offsets_.assign(static_cast<size_t>(length) + 1, 0);
      break;
  }
}

void VectorWriter::Set(int64_t row, const Value& v) {
  if (v.null) return;
  const Value* x = &v;
  Value converted;
  if (v.type != type_) {
    converted = CastValue(v, type_);
    if (converted.null) return;
    x = &converted;
  }
  switch (type_) {
    case TypeId::kNull:
      break;
    case TypeId::kBool:
      SetBool(row, x->i != 0);
      break;
    case TypeId::kInt:
    case TypeId::kTimestamp:
    case TypeId::kDuration:
      SetInt64(row, x->i);
      break;
    case TypeId::kFloat:
      SetFloat(row, x->f);
      break;
    case TypeId::kString:
    case TypeId::kDynamic:
      SetString(row, x->s);
      break;
  }
}

Result<Vector> VectorWriter::FinishChecked() {
  if (overflowed_) {
    return Status::InvalidInput(
        "the {} values of one batch of {} rows exceed 2 GiB; make the strings shorter",
        TypeName(type_), length_);
  }
  return Finish();
}

Vector VectorWriter::Finish() {
  if (type_ == TypeId::kNull || overflowed_) return Vector::Nulls(type_, length_);
  const int64_t nulls = length_ - valid_count_;
  BufferPtr validity = nulls == 0 ? nullptr : validity_;
  if (IsStringBacked(type_)) {
    FillOffsetsTo(length_);
    return Vector::Strings(type_, length_, Buffer::CopyOf(offsets_),
                           Buffer::CopyOf(data_.data(), data_.size()), validity, nulls);
  }
  return Vector::Fixed(type_, length_, values_, validity, nulls);
}

}  // namespace tql
