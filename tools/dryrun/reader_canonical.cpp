// Canonical JSONL reader (docs/dryrun.md "Canonical JSONL"): the hot path of large replays, so
// it scans each line in place with JsonScan instead of building a DOM.
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "tools/dryrun/json_scan.h"
#include "tools/dryrun/reader.h"
#include "tools/dryrun/timeparse.h"

namespace tollgate::dryrun {

namespace {

enum class Key {
  Ts,
  RequestId,
  Attempt,
  Tenant,
  Model,
  In,
  Out,
  Cached,
  Status,
  Attrs,
  HashIds,
  BlockSize,
  Cost,
  Other
};

// k equals the literal (whose length is a compile-time constant, so its words fold away).
template <size_t N>
inline bool is(std::string_view k, const char (&lit)[N]) {
  return k.size() == N - 1 && bytes_equal(k.data(), lit, N - 1);
}

Key classify(std::string_view k) {
  switch (k.size()) {
    case 2:
      if (is(k, "ts")) return Key::Ts;
      break;
    case 5:
      if (is(k, "model")) return Key::Model;
      if (is(k, "attrs")) return Key::Attrs;
      break;
    case 6:
      if (is(k, "tenant")) return Key::Tenant;
      if (is(k, "status")) return Key::Status;
      break;
    case 7:
      if (is(k, "attempt")) return Key::Attempt;
      break;
    case 8:
      if (is(k, "hash_ids")) return Key::HashIds;
      if (is(k, "cost_usd")) return Key::Cost;
      break;
    case 9:
      if (is(k, "in_tokens")) return Key::In;
      break;
    case 10:
      if (is(k, "out_tokens")) return Key::Out;
      if (is(k, "request_id")) return Key::RequestId;
      if (is(k, "block_size")) return Key::BlockSize;
      break;
    case 13:
      if (is(k, "cached_tokens")) return Key::Cached;
      break;
    default:
      break;
  }
  return Key::Other;
}

// Sets a record text field: a value without escapes is a view of the line itself, which the
// field borrows (the line stays until the next call to next(); the replay packs the record
// before that); a decoded value lives in the scanner's scratch and is copied.
inline bool in_line(std::string_view v, std::string_view line) {
  return v.data() >= line.data() && v.data() + v.size() <= line.data() + line.size();
}
inline void set_text(TextField* f, std::string_view v, std::string_view line) {
  if (in_line(v, line))
    f->borrow(v);
  else
    f->assign(v.data(), v.size());
}

constexpr uint32_t kNoId = UINT32_MAX;

// What the reader learnt about the key at one position of the previous lines. Lines of one log
// repeat their keys in the same order, so the next line is first tried against the raw bytes
// sep '"' name '"' ':' of compact JSON, sep being the '{' or ',' before the key: one vector
// compare instead of eating the separator, scanning, classifying and interning the key.
struct KeySlot {
  JsonPattern pat;      // sep '"' name '"' ':'; empty when the key cannot be matched raw
  uint32_t id = kNoId;  // its attribute id, once interned
  Key k = Key::Other;   // its top-level meaning
  std::string name;     // the decoded key

  // True when the separator and key at the cursor are this slot's (and then consumes them and
  // the ':').
  TOLLGATE_JSON_INLINE bool match(JsonScan* s) const { return s->eat_pattern(pat); }
  void set(char sep, std::string_view key) {
    name.assign(key.data(), key.size());
    id = kNoId;
    k = classify(key);
    pat.clear();
    // A name without '"' or '\\' is written verbatim between the quotes: then, and only then,
    // matching the raw bytes is the same as decoding the string.
    if (key.size() + 4 <= sizeof pat.bytes && key.find_first_of("\"\\") == std::string_view::npos) {
      char raw[sizeof pat.bytes];
      raw[0] = sep;
      raw[1] = '"';
      std::memcpy(raw + 2, key.data(), key.size());
      raw[key.size() + 2] = '"';
      raw[key.size() + 3] = ':';
      pat.set(raw, key.size() + 4);
    }
  }
  bool is(std::string_view key) const {
    return name.size() == key.size() && bytes_equal(name.data(), key.data(), key.size());
  }
};

// The slot for position pos of an object, (re)learnt from key when it differs.
KeySlot& learn(std::vector<KeySlot>* slots, size_t pos, std::string_view key) {
  if (pos >= slots->size()) slots->resize(pos + 1);
  KeySlot& slot = (*slots)[pos];
  if (!slot.is(key)) slot.set(pos == 0 ? '{' : ',', key);
  return slot;
}

class CanonicalReader : public LogReader {
 public:
  CanonicalReader(std::unique_ptr<LineReader> in, const ReaderOptions& o)
      : in_(std::move(in)), o_(o) {}

  LogFormat format() const override { return LogFormat::Canonical; }
  uint64_t bytes_read() const override { return in_->source().raw_offset(); }
  uint64_t bytes_total() const override { return in_->source().raw_size; }
  std::string stream_error() const override { return in_->source().error(); }

  bool next(LogRecord* rec) override {
    std::string_view line;
    while (in_->next(&line)) {
      size_t i = 0;
      while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
      if (i == line.size()) continue;
      ++o_.stats->lines;
      rec->clear();
      const char* why = parse(line, rec);
      if (why) {
        o_.stats->bad(o_.file_name, in_->line_no(), why);
        continue;
      }
      rec->file = o_.file_index;
      rec->line = in_->line_no();
      ++o_.stats->records;
      return true;
    }
    return false;
  }

 private:
  // Returns null on success, else what was wrong.
  const char* parse(std::string_view line, LogRecord* r) {
    JsonScan s(line);
    bool has_ts = false, has_in = false, has_out = false;
    std::string_view key, v;
    // Slot counts are kept here: vector::size() divides by the slot size on every key.
    size_t n_top = top_.size(), n_attr_slots = attr_.size();
    for (size_t pos = 0;; ++pos) {
      // slot stays valid through the value: top_ only changes here.
      KeySlot* slot;
      if (pos < n_top && top_[pos].match(&s)) {
        slot = &top_[pos];
      } else {
        if (pos == 0) {
          if (!s.eat('{')) return "not a JSON object";
          if (s.eat('}')) break;
        } else if (!s.eat(',')) {
          if (!s.eat('}')) return "expected ',' or '}'";
          break;
        }
        if (!s.string(&key, &key_scratch_)) return "expected a key";
        slot = &learn(&top_, pos, key);
        n_top = top_.size();
        if (!s.eat(':')) return "expected ':'";
      }
      Key k = slot->k;
      switch (k) {
        case Key::Ts: {
          if (s.peek() == '"') {
            if (!s.string(&v, &scratch_) || !parse_datetime(v, &r->ts_ms))
              return "bad ts (RFC 3339 text or epoch milliseconds)";
          } else if (!s.int64(&r->ts_ms)) {
            return "bad ts (RFC 3339 text or epoch milliseconds)";
          }
          has_ts = true;
          break;
        }
        case Key::RequestId:
          if (!s.scalar_text(&v, &scratch_)) return "bad request_id";
          set_text(&r->request_id, v, line);
          break;
        case Key::Attempt:
          if (!s.int64(&r->attempt) || r->attempt < 0) return "bad attempt";
          break;
        case Key::Tenant:
          if (!s.scalar_text(&v, &scratch_)) return "bad tenant";
          set_text(&r->tenant, v, line);
          break;
        case Key::Model:
          if (!s.scalar_text(&v, &scratch_)) return "bad model";
          set_text(&r->model, v, line);
          break;
        case Key::In:
          if (!s.int64(&r->in_tokens) || r->in_tokens < 0) return "bad in_tokens";
          has_in = true;
          break;
        case Key::Out:
          if (!s.int64(&r->out_tokens) || r->out_tokens < 0) return "bad out_tokens";
          has_out = true;
          break;
        case Key::Cached:
          if (!s.int64(&r->cached_tokens) || r->cached_tokens < 0) return "bad cached_tokens";
          break;
        case Key::Status:
          if (!s.scalar_text(&v, &scratch_)) return "bad status";
          if (is(v, "ok"))
            set_text(&r->status, v, line);
          else
            r->status = normalize_status(v);
          break;
        case Key::BlockSize:
          if (!s.int64(&r->block_size) || r->block_size <= 0) return "bad block_size";
          break;
        case Key::Cost: {
          if (!s.number_text(&v)) return "bad cost_usd";
          r->logged_cost_usd = std::strtod(std::string(v).c_str(), nullptr);
          break;
        }
        case Key::HashIds: {
          if (!s.eat('[')) return "hash_ids must be an array of integers";
          if (!s.eat(']')) {
            for (;;) {
              int64_t h;
              if (!s.int64(&h)) return "hash_ids must be an array of integers";
              r->hash_ids.push_back(static_cast<uint64_t>(h));
              if (s.eat(',')) continue;
              if (!s.eat(']')) return "unterminated hash_ids";
              break;
            }
          }
          break;
        }
        case Key::Attrs: {
          // Like the top level, each key is first matched with the '{' or ',' before it.
          for (size_t n_attr = 0;; ++n_attr) {
            uint32_t id;
            if (n_attr < n_attr_slots && attr_[n_attr].match(&s)) {
              id = attr_[n_attr].id;
            } else {
              if (n_attr == 0) {
                if (!s.eat('{')) return "attrs must be an object";
                if (s.eat('}')) break;
              } else if (!s.eat(',')) {
                if (!s.eat('}')) return "unterminated attrs";
                break;
              }
              if (!s.string(&key, &key_scratch_)) return "bad attrs key";
              KeySlot& a = learn(&attr_, n_attr, key);
              n_attr_slots = attr_.size();
              if (a.id == kNoId) a.id = o_.keys->intern(key);
              id = a.id;
              if (!s.eat(':')) return "expected ':' in attrs";
            }
            char c = s.peek();
            if (c == '{' || c == '[') {
              if (!s.skip_value()) return "bad attrs value";
              o_.stats->note("non-scalar attrs values ignored");
            } else {
              if (!s.scalar_text(&v, &scratch_)) return "bad attrs value";
              // attrs keys are distinct (a duplicate key would be kept twice; the first wins).
              // Like text fields, a value is borrowed from the line, or copied from the scratch
              // (where the next escaped value will be decoded).
              if (!is(v, "null")) {
                if (in_line(v, line))
                  r->borrow_attr(id, v);
                else
                  r->add_attr(id, v);
              }
            }
          }
          break;
        }
        case Key::Other: {
          // Unknown top-level scalars become attributes, so --map can reach them.
          char c = s.peek();
          if (c == '{' || c == '[') {
            if (!s.skip_value()) return "bad value";
          } else {
            if (!s.scalar_text(&v, &scratch_)) return "bad value";
            if (!is(v, "null")) {
              if (slot->id == kNoId) slot->id = o_.keys->intern(slot->name);
              if (in_line(v, line))
                r->set_attr_borrowed(slot->id, v);
              else
                r->set_attr(slot->id, v);
            }
          }
          break;
        }
      }
    }
    if (!s.at_end()) return "trailing characters after the object";
    if (!has_ts) return "missing ts";
    if (!has_in) return "missing in_tokens";
    if (!has_out) return "missing out_tokens";
    if (r->status.empty()) r->status.borrow("ok");
    if (r->cached_tokens > r->in_tokens) return "cached_tokens > in_tokens";
    return nullptr;
  }

  std::unique_ptr<LineReader> in_;
  ReaderOptions o_;
  std::string scratch_, key_scratch_;
  std::vector<KeySlot> top_, attr_;  // by key position: top-level keys, attrs keys
};

}  // namespace

std::unique_ptr<LogReader> make_canonical_reader(std::unique_ptr<LineReader> in,
                                                 const ReaderOptions& o) {
  return std::make_unique<CanonicalReader>(std::move(in), o);
}

}  // namespace tollgate::dryrun
