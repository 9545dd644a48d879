// The Prometheus text format (version 0.0.4) of the service's counters: labelled counters, latency
// histograms and the writer that renders families. One escaper for label values, one encoding of
// a label set (the rendered `a="x",b="y"` text is the counter's key).
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tollgate::serve {

// `value` escaped for a label: backslash, double quote and newline.
std::string prom_label_value(std::string_view value);
// `a="x",b="y"` from name/value pairs (values escaped).
std::string prom_labels(std::initializer_list<std::pair<std::string_view, std::string_view>> kv);
// The same into *out (cleared first), reusing its capacity: the per-request form.
void prom_labels_into(std::string* out,
                      std::initializer_list<std::pair<std::string_view, std::string_view>> kv);

// Counters by label set. A label set's counter lives as long as the LabeledCounter and never
// moves, so a request thread resolves it once (slot(), which locks) and then only increments an
// atomic: the per-request path builds no label text and takes no lock.
class LabeledCounter {
 public:
  std::atomic<uint64_t>* slot(std::string_view labels);
  void add(std::string_view labels, uint64_t n = 1) {
    slot(labels)->fetch_add(n, std::memory_order_relaxed);
  }
  std::map<std::string, uint64_t> snapshot() const;

 private:
  mutable std::mutex mu_;  // guards the map's structure; the counts are atomics
  std::map<std::string, std::atomic<uint64_t>, std::less<>> counts_;
};

// A latency histogram in seconds with fixed buckets from 1 us to 1 s. Lock-free.
class LatencyHistogram {
 public:
  static constexpr std::array<double, 16> kBounds = {1e-6, 2.5e-6, 5e-6, 1e-5, 2.5e-5, 5e-5,
                                                     1e-4, 2.5e-4, 5e-4, 1e-3, 2.5e-3, 5e-3,
                                                     1e-2, 0.1,    0.5,  1};
  void observe_ns(uint64_t ns);
  struct Snapshot {
    std::array<uint64_t, kBounds.size() + 1> buckets{};  // last: +Inf
    uint64_t count = 0;
    uint64_t sum_ns = 0;
  };
  Snapshot snapshot() const;

 private:
  std::array<std::atomic<uint64_t>, kBounds.size() + 1> buckets_{};
  std::atomic<uint64_t> count_{0};
  std::atomic<uint64_t> sum_ns_{0};
};

// Renders families into one exposition text.
class PromWriter {
 public:
  // # HELP / # TYPE lines; type is "counter", "gauge" or "histogram".
  void family(std::string_view name, std::string_view type, std::string_view help);
  void sample(std::string_view name, const std::string& labels, double value);
  void sample(std::string_view name, const std::string& labels, uint64_t value);
  void counters(std::string_view name, std::string_view help, const LabeledCounter& c);
  void histogram(std::string_view name, const std::string& labels,
                 const LatencyHistogram::Snapshot& h);
  std::string take() { return std::move(out_); }

 private:
  std::string out_;
};

}  // namespace tollgate::serve
