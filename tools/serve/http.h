// The HTTP surface the decision service sees: a parsed request, a response to fill, and the
// server that connects them. The HTTP library (Boost.Beast, docs/serve.md "Why Beast") stays
// behind this header, so the endpoints in service.cpp are plain functions of plain structs.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tollgate::serve {

struct HttpRequest {
  std::string_view method;  // "GET", "POST", ...
  std::string_view path;    // target without the query: "/v1/decide/acme"
  std::string_view query;   // after '?', without it: "explain=true"
  std::vector<std::pair<std::string_view, std::string_view>> headers;  // as received
  std::string_view body;
  std::string_view peer;  // "127.0.0.1:53412"

  // First header of that name (ASCII case-insensitive); empty view when absent.
  std::string_view header(std::string_view name) const;
  // Value of a query parameter ("explain" in "explain=true&x=1"); false when absent. Not
  // percent-decoded: the service's parameters are plain words.
  bool query_param(std::string_view name, std::string_view* value) const;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  // Names are string literals (every header the service sets is one), so a name costs no copy.
  std::vector<std::pair<std::string_view, std::string>> headers;
  std::string body;

  void add_header(std::string_view literal_name, std::string value) {
    headers.emplace_back(literal_name, std::move(value));
  }
};

using HttpHandler = std::function<void(const HttpRequest&, HttpResponse*)>;

// Every limit the server enforces (docs/serve.md "Limits").
struct HttpServerOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 8181;  // 0: any free port (tests), see HttpServer::port()
  int threads = 2;
  size_t max_body_bytes = 1 << 20;     // larger bodies get 413
  size_t max_header_bytes = 16 << 10;  // request line + headers; beyond: 431
  int read_timeout_ms = 10'000;   // a request must arrive whole within this, from its first byte
  int idle_timeout_ms = 60'000;   // a keep-alive connection with no request is closed after this
  int max_connections = 1024;     // beyond: 503 and close
  int drain_timeout_ms = 10'000;  // stop(): how long in-flight requests may take to finish
};

struct HttpServerStats {
  uint64_t connections_accepted = 0;
  uint64_t connections_rejected = 0;  // over max_connections
  uint64_t timeouts = 0;              // closed by the read or idle timeout
  uint64_t bad_requests = 0;          // unparsable, too large (400/413/431)
  int64_t connections_open = 0;
};

class HttpServer {
 public:
  HttpServer(HttpServerOptions options, HttpHandler handler);
  ~HttpServer();  // stop()s
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds and listens; false with *error when the address cannot be bound.
  bool start(std::string* error);
  uint16_t port() const;  // the bound port
  // Stops accepting, lets requests already received finish (up to drain_timeout_ms), closes
  // every connection and joins the threads. Idempotent.
  void stop();
  HttpServerStats stats() const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace tollgate::serve
