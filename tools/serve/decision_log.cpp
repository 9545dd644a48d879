// DecisionLog (see decision_log.h).
#include "tools/serve/decision_log.h"

#include <cerrno>
#include <cstring>

namespace tollgate::serve {

DecisionLog::~DecisionLog() {
  if (file_) std::fclose(file_);
}

bool DecisionLog::open(std::string* error) {
  std::lock_guard<std::mutex> lock(mu_);
  file_ = std::fopen(path_.c_str(), "a");
  if (!file_) {
    *error = "cannot open decision log " + path_ + ": " + std::strerror(errno);
    return false;
  }
  std::fseek(file_, 0, SEEK_END);
  long pos = std::ftell(file_);
  size_ = pos > 0 ? static_cast<uint64_t>(pos) : 0;
  return true;
}

void DecisionLog::rotate() {
  std::fclose(file_);
  const std::string old = path_ + ".1";
  std::rename(path_.c_str(), old.c_str());
  file_ = std::fopen(path_.c_str(), "w");
  size_ = 0;
  ++rotations_;
}

void DecisionLog::write(std::string_view record) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!file_) return;
  if (size_ > 0 && size_ + record.size() + 1 > max_) rotate();
  if (!file_) return;
  std::fwrite(record.data(), 1, record.size(), file_);
  std::fputc('\n', file_);
  size_ += record.size() + 1;
  ++records_;
}

void DecisionLog::flush() {
  std::lock_guard<std::mutex> lock(mu_);
  if (file_) std::fflush(file_);
}

}  // namespace tollgate::serve
