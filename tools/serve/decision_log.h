// --decision-log FILE: the runtime's audit records as JSON lines (as OPA's decision logs), one per
// decision or admission, size-capped: when the file would pass max_bytes it is renamed to FILE.1
// (replacing the previous one) and a new FILE is started, so the log never holds more than about
// twice max_bytes on disk.
#pragma once

#include <cstdint>
#include <cstdio>
#include <mutex>
#include <string>
#include <string_view>

namespace tollgate::serve {

class DecisionLog {
 public:
  DecisionLog(std::string path, uint64_t max_bytes) : path_(std::move(path)), max_(max_bytes) {}
  ~DecisionLog();
  bool open(std::string* error);
  // Appends `record` and a newline. Thread-safe.
  void write(std::string_view record);
  void flush();
  uint64_t rotations() const { return rotations_; }
  uint64_t records() const { return records_; }

 private:
  void rotate();  // caller holds mu_
  std::string path_;
  uint64_t max_;
  std::mutex mu_;
  FILE* file_ = nullptr;
  uint64_t size_ = 0;
  uint64_t rotations_ = 0;
  uint64_t records_ = 0;
};

}  // namespace tollgate::serve
