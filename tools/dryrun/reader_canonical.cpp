// Canonical JSONL reader (docs/dryrun.md "Canonical JSONL"): the hot path of large replays, so
// it scans each line in place with JsonScan instead of building a DOM.
#include <cstring>

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

Key classify(std::string_view k) {
  switch (k.size()) {
    case 2:
      if (k == "ts") return Key::Ts;
      break;
    case 5:
      if (k == "model") return Key::Model;
      if (k == "attrs") return Key::Attrs;
      break;
    case 6:
      if (k == "tenant") return Key::Tenant;
      if (k == "status") return Key::Status;
      break;
    case 7:
      if (k == "attempt") return Key::Attempt;
      break;
    case 8:
      if (k == "hash_ids") return Key::HashIds;
      if (k == "cost_usd") return Key::Cost;
      break;
    case 9:
      if (k == "in_tokens") return Key::In;
      break;
    case 10:
      if (k == "out_tokens") return Key::Out;
      if (k == "request_id") return Key::RequestId;
      if (k == "block_size") return Key::BlockSize;
      break;
    case 13:
      if (k == "cached_tokens") return Key::Cached;
      break;
    default:
      break;
  }
  return Key::Other;
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
    if (!s.eat('{')) return "not a JSON object";
    bool has_ts = false, has_in = false, has_out = false;
    std::string_view key, v;
    if (!s.eat('}')) {
      for (;;) {
        if (!s.string(&key, &key_scratch_)) return "expected a key";
        Key k = classify(key);
        std::string other_key;
        if (k == Key::Other) other_key.assign(key.data(), key.size());
        if (!s.eat(':')) return "expected ':'";
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
            r->request_id.assign(v.data(), v.size());
            break;
          case Key::Attempt:
            if (!s.int64(&r->attempt) || r->attempt < 0) return "bad attempt";
            break;
          case Key::Tenant:
            if (!s.scalar_text(&v, &scratch_)) return "bad tenant";
            r->tenant.assign(v.data(), v.size());
            break;
          case Key::Model:
            if (!s.scalar_text(&v, &scratch_)) return "bad model";
            r->model.assign(v.data(), v.size());
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
            if (v == "ok")
              r->status.assign("ok", 2);
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
            if (!s.eat('{')) return "attrs must be an object";
            size_t n_attr = 0;
            if (s.eat('}')) break;
            for (;;) {
              if (!s.string(&key, &key_scratch_)) return "bad attrs key";
              uint32_t id = attr_id(n_attr++, key);
              if (!s.eat(':')) return "expected ':' in attrs";
              char c = s.peek();
              if (c == '{' || c == '[') {
                if (!s.skip_value()) return "bad attrs value";
                o_.stats->note("non-scalar attrs values ignored");
              } else {
                if (!s.scalar_text(&v, &scratch_)) return "bad attrs value";
                // attrs keys are distinct (a duplicate key would be kept twice; the first wins).
                if (v != "null") r->add_attr(id, v);
              }
              if (s.eat(',')) continue;
              if (!s.eat('}')) return "unterminated attrs";
              break;
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
              if (v != "null") r->set_attr(o_.keys->intern(other_key), v);
            }
            break;
          }
        }
        if (s.eat(',')) continue;
        if (!s.eat('}')) return "expected ',' or '}'";
        break;
      }
    }
    if (!s.at_end()) return "trailing characters after the object";
    if (!has_ts) return "missing ts";
    if (!has_in) return "missing in_tokens";
    if (!has_out) return "missing out_tokens";
    if (r->status.empty()) r->status.assign("ok", 2);
    if (r->cached_tokens > r->in_tokens) return "cached_tokens > in_tokens";
    return nullptr;
  }

  // Lines of one log repeat their attribute keys in the same order: remember the key seen at
  // each position so interning is a string compare, not a hash lookup.
  uint32_t attr_id(size_t pos, std::string_view key) {
    if (pos < key_cache_.size() && key_cache_[pos].first == key) return key_cache_[pos].second;
    uint32_t id = o_.keys->intern(key);
    if (pos >= key_cache_.size()) key_cache_.resize(pos + 1);
    key_cache_[pos] = {std::string(key), id};
    return id;
  }

  std::unique_ptr<LineReader> in_;
  ReaderOptions o_;
  std::string scratch_, key_scratch_;
  std::vector<std::pair<std::string, uint32_t>> key_cache_;
};

}  // namespace

std::unique_ptr<LogReader> make_canonical_reader(std::unique_ptr<LineReader> in,
                                                 const ReaderOptions& o) {
  return std::make_unique<CanonicalReader>(std::move(in), o);
}

}  // namespace tollgate::dryrun
