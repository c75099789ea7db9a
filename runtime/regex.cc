#include "runtime/regex.h"

#include <re2/filtered_re2.h>
#include <re2/re2.h>

#include <cstring>

#include "runtime/simd_kernels.h"

namespace tql {

namespace {

// No logging; bounded memory, so a pathological pattern fails instead of blowing up.
void SetRegexOptions(RE2::Options* options, bool case_sensitive) {
  options->set_log_errors(false);
  options->set_max_mem(int64_t{8} << 20);
  options->set_case_sensitive(case_sensitive);
}

}  // namespace

const Regex* CachedRegex(const std::string& pattern) {
  thread_local std::string last_pattern;
  thread_local std::shared_ptr<const Regex> last;
  thread_local bool valid = false;
  if (last_pattern != pattern || (!last && !valid)) {
    Result<std::shared_ptr<const Regex>> r = Regex::Make(pattern);
    last = r.ok() ? std::move(r).value() : nullptr;
    last_pattern = pattern;
    valid = true;
  }
  return last.get();
}

Regex::~Regex() = default;

Result<std::shared_ptr<const Regex>> Regex::Make(const std::string& pattern, bool case_sensitive) {
  RE2::Options options;
  SetRegexOptions(&options, case_sensitive);
  auto r = std::shared_ptr<Regex>(new Regex());
  r->pattern_ = pattern;
  r->re_ = std::make_unique<RE2>(pattern, options);
  if (!r->re_->ok()) return Status::InvalidInput("invalid regular expression: {}", r->re_->error());
  // Atoms shorter than 3 bytes reject too little text to pay for their scan.
  auto filter = std::make_unique<re2::FilteredRE2>(3);
  int id = 0;
  if (filter->Add(pattern, options, &id) == RE2::NoError) {
    filter->Compile(&r->atoms_);
    // Only ASCII atoms: the scan folds ASCII case (a non-ASCII atom keeps RE2 alone).
    bool ascii = !r->atoms_.empty();
    for (const std::string& a : r->atoms_) {
      for (char c : a) ascii = ascii && static_cast<unsigned char>(c) < 0x80;
    }
    if (ascii) {
      r->filter_ = std::move(filter);
      // When every atom shares a prefix or suffix (alternations expand: `timed? ?out` needs
      // one of timeout, timedout, time out, timed out), one scan for it rejects most text.
      if (r->atoms_.size() > 1) {
        std::string prefix = r->atoms_[0], suffix = r->atoms_[0];
        for (const std::string& a : r->atoms_) {
          size_t k = 0;
          while (k < prefix.size() && k < a.size() && prefix[k] == a[k]) ++k;
          prefix.resize(k);
          k = 0;
          while (k < suffix.size() && k < a.size() &&
                 suffix[suffix.size() - 1 - k] == a[a.size() - 1 - k]) {
            ++k;
          }
          suffix = suffix.substr(suffix.size() - k);
        }
        if (prefix.size() >= 3) r->guards_.push_back(prefix);
        if (suffix.size() >= 3) r->guards_.push_back(suffix);
      }
    }
  }
  return std::shared_ptr<const Regex>(std::move(r));
}

namespace {

// True when every byte is below 0x80, eight at a time.
bool AllAscii(std::string_view s) {
  size_t i = 0;
  uint64_t any = 0;
  for (; i + 8 <= s.size(); i += 8) {
    uint64_t w;
    std::memcpy(&w, s.data() + i, 8);
    any |= w;
  }
  for (; i < s.size(); ++i) any |= static_cast<unsigned char>(s[i]);
  return (any & 0x8080808080808080ULL) == 0;
}

}  // namespace

bool Regex::PartialMatch(std::string_view text) const {
  // The prefilter searches atoms ignoring ASCII case; outside ASCII, RE2's case folding (the
  // Kelvin sign matches (?i)k) could match where the scan sees no atom, so RE2 decides alone.
  if (!filter_ || !AllAscii(text)) return RE2::PartialMatch(text, *re_);
  // The atoms the text contains (ignoring case, as FilteredRE2 asks); the prefilter decides
  // whether RE2 must run at all.
  for (const std::string& g : guards_) {
    if (!ContainsBytes(text.data(), text.size(), g.data(), g.size(), /*fold=*/true)) return false;
  }
  thread_local std::vector<int> found;
  found.clear();
  for (size_t i = 0; i < atoms_.size(); ++i) {
    const std::string& a = atoms_[i];
    if (ContainsBytes(text.data(), text.size(), a.data(), a.size(), /*fold=*/true)) {
      found.push_back(static_cast<int>(i));
    }
  }
  // The prefilter is a formula over atoms without constants: with none present it is false
  // (and asking FilteredRE2 would allocate on every row).
  if (found.empty()) return false;
  return filter_->FirstMatch(re2::StringPiece(text.data(), text.size()), found) >= 0;
}

}  // namespace tql
