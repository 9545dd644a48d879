// Parses a Redis ledger URL with its query parameters into RedisLedgerOptions, so a gateway can
// configure shared budgets with one string (flag, env var or config file entry).
#include <cstdlib>
#include <string>

#include "runtime/src/redis_connection.h"
#include "tollgate/redis_ledger.hpp"

namespace tollgate {

namespace {

std::string url_decode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      out.push_back(
          static_cast<char>(std::strtol(std::string(s.substr(i + 1, 2)).c_str(), nullptr, 16)));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

bool to_int(const std::string& v, int* out) {
  char* end = nullptr;
  long x = std::strtol(v.c_str(), &end, 10);
  if (v.empty() || *end != '\0' || x < 0 || x > 1'000'000'000) return false;
  *out = static_cast<int>(x);
  return true;
}

bool to_double(const std::string& v, double* out) {
  char* end = nullptr;
  double x = std::strtod(v.c_str(), &end);
  if (v.empty() || *end != '\0') return false;
  *out = x;
  return true;
}

}  // namespace

bool parse_redis_ledger_url(std::string_view url, RedisLedgerOptions* out, std::string* error) {
  redis::Endpoint endpoint;
  std::string query;
  if (!redis::parse_endpoint(url, &endpoint, &query, error)) return false;
  size_t q = url.find('?');
  out->url = std::string(url.substr(0, q));
  std::string_view rest = query;
  while (!rest.empty()) {
    size_t amp = rest.find('&');
    std::string_view item = rest.substr(0, amp);
    rest = amp == std::string_view::npos ? std::string_view() : rest.substr(amp + 1);
    if (item.empty()) continue;
    size_t eq = item.find('=');
    std::string name(item.substr(0, eq));
    std::string value = eq == std::string_view::npos ? "" : url_decode(item.substr(eq + 1));
    bool ok = true;
    if (name == "prefix") {
      out->key_prefix = value;
    } else if (name == "replica") {
      out->replica_id = value;
    } else if (name == "connect_timeout_ms") {
      ok = to_int(value, &out->connect_timeout_ms);
    } else if (name == "command_timeout_ms" || name == "timeout_ms") {
      ok = to_int(value, &out->command_timeout_ms);
    } else if (name == "slice") {
      ok = to_double(value, &out->slice_fraction);
    } else if (name == "low_water") {
      ok = to_double(value, &out->low_water);
    } else if (name == "lease_ttl_ms") {
      ok = to_int(value, &out->lease_ttl_ms);
    } else if (name == "flush_interval_ms") {
      ok = to_int(value, &out->flush_interval_ms);
    } else if (name == "refresh_interval_ms") {
      ok = to_int(value, &out->refresh_interval_ms);
    } else if (name == "idle_return_ms") {
      ok = to_int(value, &out->idle_return_ms);
    } else if (name == "admit_wait_ms") {
      ok = to_int(value, &out->admit_wait_ms);
    } else {
      *error = "unknown Redis ledger URL parameter '" + name + "'";
      return false;
    }
    if (!ok) {
      *error = "bad value '" + value + "' for Redis ledger URL parameter '" + name + "'";
      return false;
    }
  }
  return true;
}

std::unique_ptr<LedgerBackend> make_ledger_backend(std::string_view url, std::string* error) {
  std::string ignored;
  if (error == nullptr) error = &ignored;
  if (url.empty() || url == "memory" || url == "memory://") return make_memory_backend();
  RedisLedgerOptions options;
  if (!parse_redis_ledger_url(url, &options, error)) return nullptr;
  return make_redis_backend(options, error);
}

}  // namespace tollgate
