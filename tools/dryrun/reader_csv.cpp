// CSV reader (header row required; RFC 4180 quoting; CRLF or LF; last row may lack a newline).
// Known column names map to record fields (Azure's TIMESTAMP/ContextTokens/GeneratedTokens,
// BurstGPT's "Request tokens", ...); every column is also kept as an attribute under its header.
#include <cctype>
#include <cmath>
#include <cstdlib>

#include "tools/dryrun/numeric.h"
#include "tools/dryrun/reader.h"
#include "tools/dryrun/timeparse.h"

namespace tollgate::dryrun {

namespace {

enum class Col { Ts, RequestId, Attempt, Tenant, Model, In, Out, Cached, Status, Cost, None };

std::string lower(std::string_view s) {
  std::string out;
  for (char c : s) out.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  return out;
}

Col classify(std::string_view header) {
  std::string h = lower(header);
  auto any = [&](std::initializer_list<const char*> names) {
    for (const char* n : names)
      if (h == n) return true;
    return false;
  };
  if (any({"ts", "timestamp", "time", "start_time", "starttime", "created_at", "date"}))
    return Col::Ts;
  if (any({"request_id", "requestid", "id"})) return Col::RequestId;
  if (any({"attempt", "retry", "attempt_number"})) return Col::Attempt;
  if (any({"tenant", "team", "team_id", "customer", "org", "organization_id"})) return Col::Tenant;
  if (any({"model", "model_id", "modelid"})) return Col::Model;
  if (any({"in_tokens", "input_tokens", "prompt_tokens", "contexttokens", "context_tokens",
           "request tokens", "request_tokens"}))
    return Col::In;
  if (any({"out_tokens", "output_tokens", "completion_tokens", "generatedtokens",
           "generated_tokens", "response tokens", "response_tokens"}))
    return Col::Out;
  if (any({"cached_tokens", "cache_read_tokens", "cache_read_input_tokens", "cached_input_tokens"}))
    return Col::Cached;
  if (any({"status", "status_code"})) return Col::Status;
  if (any({"cost_usd", "cost", "spend"})) return Col::Cost;
  return Col::None;
}

// Splits one CSV row; false on an unterminated quote.
bool split_row(std::string_view line, std::vector<std::string>* out) {
  out->clear();
  std::string cur;
  size_t i = 0;
  bool quoted_field = false;
  while (true) {
    if (i < line.size() && line[i] == '"') {
      quoted_field = true;
      ++i;
      for (;;) {
        if (i >= line.size()) return false;
        if (line[i] == '"') {
          if (i + 1 < line.size() && line[i + 1] == '"') {
            cur.push_back('"');
            i += 2;
            continue;
          }
          ++i;
          break;
        }
        cur.push_back(line[i++]);
      }
    }
    while (i < line.size() && line[i] != ',') cur.push_back(line[i++]);
    if (!quoted_field) {
      // Trim spaces around unquoted fields ("1, 2" is common in hand-written CSV).
      size_t b = cur.find_first_not_of(' '), e = cur.find_last_not_of(' ');
      cur = b == std::string::npos ? std::string() : cur.substr(b, e - b + 1);
    }
    out->push_back(std::move(cur));
    cur.clear();
    quoted_field = false;
    if (i >= line.size()) break;
    ++i;  // the comma
  }
  return true;
}

bool parse_i64(const std::string& s, int64_t* out) {
  if (s.empty()) return false;
  char* end = nullptr;
  double v = std::strtod(s.c_str(), &end);
  if (*end != '\0' || v < 0) return false;
  return double_to_int64(v, out);
}

class CsvReader : public LogReader {
 public:
  CsvReader(std::unique_ptr<LineReader> in, const ReaderOptions& o) : in_(std::move(in)), o_(o) {
    std::string_view line;
    while (in_->next(&line)) {
      if (line.find_first_not_of(" \t") == std::string_view::npos) continue;
      if (line.size() >= 3 && line.substr(0, 3) == "\xEF\xBB\xBF") line.remove_prefix(3);  // BOM
      split_row(line, &header_);
      break;
    }
    for (const auto& h : header_) {
      cols_.push_back(classify(h));
      ids_.push_back(o_.keys->intern(h));
    }
    auto has = [&](Col c) {
      for (Col x : cols_)
        if (x == c) return true;
      return false;
    };
    if (header_.empty())
      header_error_ = "empty CSV: no header row";
    else if (!has(Col::Ts))
      header_error_ = "CSV header has no timestamp column (ts, TIMESTAMP, ...)";
    else if (!has(Col::In))
      header_error_ = "CSV header has no input-token column (in_tokens, ContextTokens, ...)";
    else if (!has(Col::Out))
      header_error_ = "CSV header has no output-token column (out_tokens, GeneratedTokens, ...)";
  }

  LogFormat format() const override { return LogFormat::Csv; }
  uint64_t bytes_read() const override { return in_->source().raw_offset(); }
  uint64_t bytes_total() const override { return in_->source().raw_size; }
  std::string stream_error() const override { return in_->source().error(); }
  std::vector<std::string> declared_fields() const override { return header_; }

  bool next(LogRecord* rec) override {
    if (!header_error_.empty()) {
      o_.stats->bad(o_.file_name, 1, header_error_);
      header_error_.clear();
      done_ = true;
    }
    if (done_) return false;
    std::string_view line;
    while (in_->next(&line)) {
      if (line.find_first_not_of(" \t") == std::string_view::npos) continue;
      ++o_.stats->lines;
      rec->clear();
      std::string why = parse(line, rec);
      if (!why.empty()) {
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
  std::string parse(std::string_view line, LogRecord* r) {
    if (!split_row(line, &fields_)) return "unterminated quoted field";
    if (fields_.size() != header_.size())
      return "expected " + std::to_string(header_.size()) + " fields, got " +
             std::to_string(fields_.size());
    r->status = "ok";
    for (size_t i = 0; i < fields_.size(); ++i) {
      const std::string& f = fields_[i];
      r->set_attr(ids_[i], f);
      switch (cols_[i]) {
        case Col::Ts:
          if (!parse_datetime(f, &r->ts_ms)) {
            char* end = nullptr;
            double v = std::strtod(f.c_str(), &end);
            // Beyond ~30,000 years either way it is not a timestamp (and would overflow below).
            if (f.empty() || *end != '\0' || !(std::fabs(v) < 1e12))
              return "bad timestamp '" + f + "'";
            // A number: epoch (unit by magnitude) or, with --start-time, offset seconds.
            r->ts_ms = o_.start_ms != 0 ? o_.start_ms + static_cast<int64_t>(v * 1000)
                                        : epoch_number_to_ms(v);
          }
          break;
        case Col::RequestId:
          r->request_id = f;
          break;
        case Col::Attempt:
          if (!f.empty() && !parse_i64(f, &r->attempt)) return "bad attempt '" + f + "'";
          break;
        case Col::Tenant:
          r->tenant = f;
          break;
        case Col::Model:
          r->model = f;
          break;
        case Col::In:
          if (!parse_i64(f, &r->in_tokens)) return "bad input tokens '" + f + "'";
          break;
        case Col::Out:
          if (!parse_i64(f, &r->out_tokens)) return "bad output tokens '" + f + "'";
          break;
        case Col::Cached:
          if (!f.empty() && !parse_i64(f, &r->cached_tokens))
            return "bad cached tokens '" + f + "'";
          break;
        case Col::Status:
          r->status = normalize_status(f);
          break;
        case Col::Cost:
          if (!f.empty()) r->logged_cost_usd = std::strtod(f.c_str(), nullptr);
          break;
        case Col::None:
          break;
      }
    }
    if (r->cached_tokens > r->in_tokens) return "cached tokens > input tokens";
    return "";
  }

  std::unique_ptr<LineReader> in_;
  ReaderOptions o_;
  std::vector<std::string> header_, fields_;
  std::vector<Col> cols_;
  std::vector<uint32_t> ids_;
  std::string header_error_;
  bool done_ = false;
};

}  // namespace

std::unique_ptr<LogReader> make_csv_reader(std::unique_ptr<LineReader> in, const ReaderOptions& o) {
  return std::make_unique<CsvReader>(std::move(in), o);
}

}  // namespace tollgate::dryrun
