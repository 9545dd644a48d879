// One logged LLM call attempt, normalised from any log format. Records are reused (their strings
// and vectors keep capacity), so reading a log does not allocate per line in steady state.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace tollgate::dryrun {

// Attribute names are interned to small ids once; records carry (id, value text) pairs.
class AttrKeys {
 public:
  uint32_t intern(std::string_view name);
  // -1 when the name was never seen.
  int64_t find(std::string_view name) const;
  const std::string& name(uint32_t id) const { return names_[id]; }
  size_t size() const { return names_.size(); }

 private:
  std::unordered_map<std::string, uint32_t> ids_;
  std::vector<std::string> names_;
};

// A text field of a LogRecord: bytes the field owns (assigned, like a std::string) or bytes it
// borrows (borrow(): the line a reader is parsing, or a packed record in the replay's reorder
// window; the lender keeps them until the record is cleared or refilled). Copying a field
// always copies the bytes, so a copied record never dangles.
class TextField {
 public:
  TextField() = default;
  TextField(const TextField& o) { assign(o.view_.data(), o.view_.size()); }
  TextField& operator=(const TextField& o) {
    if (this != &o) assign(o.view_.data(), o.view_.size());
    return *this;
  }
  TextField& operator=(std::string_view v) {
    assign(v.data(), v.size());
    return *this;
  }
  TextField& operator=(const std::string& v) { return *this = std::string_view(v); }
  TextField& operator=(const char* v) { return *this = std::string_view(v); }

  // Copies (the capacity is kept across records).
  void assign(const char* p, size_t n) {
    if (p >= own_.data() && p < own_.data() + own_.size()) {
      own_.assign(p, n);  // from our own bytes: assign() handles the overlap
    } else {
      own_.clear();
      own_.append(p, n);
    }
    view_ = own_;
  }
  void borrow(std::string_view v) { view_ = v; }
  void clear() { view_ = std::string_view(); }

  operator std::string_view() const { return view_; }
  std::string_view view() const { return view_; }
  std::string str() const { return std::string(view_); }
  bool empty() const { return view_.empty(); }
  size_t size() const { return view_.size(); }
  const char* data() const { return view_.data(); }
  char operator[](size_t i) const { return view_[i]; }
  friend bool operator==(const TextField& a, std::string_view b) { return a.view_ == b; }
  friend bool operator!=(const TextField& a, std::string_view b) { return a.view_ != b; }

 private:
  std::string own_;
  std::string_view view_;
};

struct LogRecord {
  int64_t ts_ms = 0;  // ms since the Unix epoch (UTC)
  uint64_t seq = 0;   // arrival order across all inputs (ties in ts keep it)
  uint32_t file = 0;  // index of the --log file
  uint64_t line = 0;  // 1-based line (record number in whole-document formats)
  TextField request_id;
  TextField tenant;
  TextField model;
  TextField status;        // "ok" or an error kind ("throttled", "server", "timeout", "error", ...)
  int64_t attempt = 0;     // 0 = first call of the request
  int64_t in_tokens = 0;   // all prompt tokens, cached ones included
  int64_t out_tokens = 0;  // completion tokens, reasoning included
  int64_t cached_tokens = 0;       // the part of in_tokens read from a prompt cache (logged)
  std::vector<uint64_t> hash_ids;  // prefix-block hashes (Mooncake); empty when unknown
  int64_t block_size = 512;        // tokens per hash block
  double logged_cost_usd = -1;     // cost the source logged (LiteLLM spend), < 0 when none

  // Inline compare: asked several times per replayed record.
  bool ok() const {
    return status.empty() || (status.size() == 2 && status[0] == 'o' && status[1] == 'k');
  }

  // Attributes (task, tier, rag_tokens, ...): interned key, value text (strings unquoted,
  // numbers and booleans as written). Like a TextField, a value is owned or borrowed:
  //  - add_attr / set_attr copy it into the record's attribute buffer (values live back to back
  //    there, so a record is a few contiguous blocks however many attributes it has). Any bytes
  //    will do: a temporary, a decoded JSON string, a number the reader formatted, a CSV field.
  //  - borrow_attr / set_attr_borrowed keep a view. The lender must keep the bytes in place and
  //    unchanged until the record is cleared or refilled (clear(), the reader's next next(),
  //    PackedRecord::unpack into it): the line a reader hands out (LineReader::next keeps it
  //    until its next call, and a reader returns the record before that) or a packed record in
  //    the replay's reorder window. Never a reader's scratch that the next value reuses.
  // Copying a record copies every value (borrowed ones become owned), so a copy never dangles.
  // The replay packs each record before asking its reader for the next one (Stream::top).
  size_t attr_count() const { return attrs_.refs.size(); }
  uint32_t attr_key(size_t i) const { return attrs_.refs[i].key; }
  std::string_view attr_value(size_t i) const { return attrs_.value(i); }
  // True when the value of attribute i is a view of bytes the record does not own (tests).
  bool attr_borrowed(size_t i) const { return attrs_.refs[i].ptr != nullptr; }
  // The value of `key`, or nullopt. O(1): a replay reads several attributes per record per side.
  std::optional<std::string_view> attr(uint32_t key) const {
    const std::vector<uint32_t>& pos = attrs_.pos;
    if (key >= pos.size() || pos[key] == 0) return std::nullopt;
    return attr_value(pos[key] - 1);
  }

  void clear();
  // Sets `key` (replacing its value when present), copying the value.
  void set_attr(uint32_t key, std::string_view value) { put_attr(key, value, false); }
  // Appends a copy without looking for an existing key (a reader that knows keys are distinct;
  // were a key repeated, the first value would win).
  void add_attr(uint32_t key, std::string_view value) {
    attrs_.refs.push_back(AttrRef{nullptr, key, static_cast<uint32_t>(attrs_.own.size()),
                                  static_cast<uint32_t>(value.size())});
    attrs_.own.append(value.data(), value.size());
    index_attr(attrs_.refs.size() - 1);
  }
  // Like set_attr / add_attr, borrowing the value's bytes (see the contract above). Forced
  // inline: the canonical reader borrows most values, and a call costs as much as the body.
  void set_attr_borrowed(uint32_t key, std::string_view value) { put_attr(key, value, true); }
  __attribute__((always_inline)) void borrow_attr(uint32_t key, std::string_view value) {
    // ptr == null marks a value owned: a null view (a default string_view) borrows "" instead.
    const char* p = value.data() ? value.data() : "";
    attrs_.refs.push_back(AttrRef{p, key, 0, static_cast<uint32_t>(value.size())});
    index_attr(attrs_.refs.size() - 1);
  }

 private:
  friend class PackedRecord;
  struct AttrRef {
    const char* ptr;  // borrowed: the value's bytes; null when owned (then own[off, off + len))
    uint32_t key, off, len;
  };
  // The attribute list. Copies own every value (what TextField's copy does for its bytes); there
  // is no move, so a moved record copies too.
  struct Attrs {
    std::vector<AttrRef> refs;
    std::string own;  // owned values back to back (a replaced one stays unused until clear())
    // pos[key]: 1 + the index in refs of the attribute with that key, 0 when absent.
    std::vector<uint32_t> pos;

    Attrs() = default;
    Attrs(const Attrs& o) { copy_from(o); }
    Attrs& operator=(const Attrs& o) {
      if (this != &o) copy_from(o);
      return *this;
    }
    void copy_from(const Attrs& o);
    std::string_view value(size_t i) const {
      const AttrRef& a = refs[i];
      return std::string_view(a.ptr ? a.ptr : own.data() + a.off, a.len);
    }
  };
  void put_attr(uint32_t key, std::string_view value, bool borrow);  // set_attr*
  // Makes refs[i] findable by key unless an earlier attribute has that key.
  void index_attr(size_t i) {
    uint32_t key = attrs_.refs[i].key;
    if (key >= attrs_.pos.size()) attrs_.pos.resize(key + 1);
    if (attrs_.pos[key] == 0) attrs_.pos[key] = static_cast<uint32_t>(i + 1);
  }
  void unindex_attrs() {
    for (const AttrRef& a : attrs_.refs) attrs_.pos[a.key] = 0;
  }
  Attrs attrs_;
};

}  // namespace tollgate::dryrun
