// Prometheus counters, histograms and text rendering (see metrics.h).
#include "tools/serve/metrics.h"

#include <cmath>
#include <cstdio>
#include <functional>
#include <thread>

namespace tollgate::serve {

namespace {

void append_label_value(std::string* out, std::string_view value) {
  for (char c : value) {
    if (c == '\\') {
      *out += "\\\\";
    } else if (c == '"') {
      *out += "\\\"";
    } else if (c == '\n') {
      *out += "\\n";
    } else {
      *out += c;
    }
  }
}

}  // namespace

std::string prom_label_value(std::string_view value) {
  std::string out;
  append_label_value(&out, value);
  return out;
}

void prom_labels_into(std::string* out,
                      std::initializer_list<std::pair<std::string_view, std::string_view>> kv) {
  out->clear();
  for (const auto& [k, v] : kv) {
    if (!out->empty()) *out += ',';
    out->append(k);
    *out += "=\"";
    append_label_value(out, v);
    *out += '"';
  }
}

std::string prom_labels(std::initializer_list<std::pair<std::string_view, std::string_view>> kv) {
  std::string out;
  prom_labels_into(&out, kv);
  return out;
}

std::atomic<uint64_t>* LabeledCounter::slot(std::string_view labels) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = counts_.find(labels);
  if (it == counts_.end()) it = counts_.try_emplace(std::string(labels), 0).first;
  return &it->second;
}

std::map<std::string, uint64_t> LabeledCounter::snapshot() const {
  std::map<std::string, uint64_t> out;
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& [k, v] : counts_) out.emplace(k, v.load(std::memory_order_relaxed));
  return out;
}

void LatencyHistogram::observe_ns(uint64_t ns) {
  const double s = static_cast<double>(ns) * 1e-9;
  size_t b = 0;
  while (b < kBounds.size() && s > kBounds[b]) ++b;
  buckets_[b].fetch_add(1, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
  sum_ns_.fetch_add(ns, std::memory_order_relaxed);
}

LatencyHistogram::Snapshot LatencyHistogram::snapshot() const {
  Snapshot s;
  for (size_t i = 0; i < buckets_.size(); ++i) s.buckets[i] = buckets_[i].load();
  s.count = count_.load();
  s.sum_ns = sum_ns_.load();
  return s;
}

void PromWriter::family(std::string_view name, std::string_view type, std::string_view help) {
  out_ += "# HELP ";
  out_.append(name);
  out_ += ' ';
  out_.append(help);
  out_ += "\n# TYPE ";
  out_.append(name);
  out_ += ' ';
  out_.append(type);
  out_ += '\n';
}

void PromWriter::sample(std::string_view name, const std::string& labels, double value) {
  out_.append(name);
  if (!labels.empty()) {
    out_ += '{';
    out_ += labels;
    out_ += '}';
  }
  char buf[40];
  if (std::isnan(value)) {
    std::snprintf(buf, sizeof buf, " NaN\n");
  } else {
    std::snprintf(buf, sizeof buf, " %.17g\n", value);
  }
  out_ += buf;
}

void PromWriter::sample(std::string_view name, const std::string& labels, uint64_t value) {
  out_.append(name);
  if (!labels.empty()) {
    out_ += '{';
    out_ += labels;
    out_ += '}';
  }
  out_ += ' ';
  out_ += std::to_string(value);
  out_ += '\n';
}

void PromWriter::counters(std::string_view name, std::string_view help, const LabeledCounter& c) {
  family(name, "counter", help);
  for (const auto& [labels, n] : c.snapshot()) sample(name, labels, n);
}

void PromWriter::histogram(std::string_view name, const std::string& labels,
                           const LatencyHistogram::Snapshot& h) {
  const std::string base(name);
  const std::string sep = labels.empty() ? "" : labels + ",";
  uint64_t cumulative = 0;
  char le[32];
  for (size_t i = 0; i < LatencyHistogram::kBounds.size(); ++i) {
    cumulative += h.buckets[i];
    std::snprintf(le, sizeof le, "%g", LatencyHistogram::kBounds[i]);
    sample(base + "_bucket", sep + "le=\"" + le + "\"", cumulative);
  }
  cumulative += h.buckets.back();
  sample(base + "_bucket", sep + "le=\"+Inf\"", cumulative);
  sample(base + "_sum", labels, static_cast<double>(h.sum_ns) * 1e-9);
  sample(base + "_count", labels, h.count);
}

}  // namespace tollgate::serve
