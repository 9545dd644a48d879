// HttpServer on Boost.Beast: one io_context run by N threads, a strand per connection, keep-alive.
// Every limit of HttpServerOptions is enforced here: an idle connection waits for its first byte
// under idle_timeout_ms, a request then has read_timeout_ms to arrive whole (so a drip-feeding
// client is cut off however slowly it sends), the parser refuses oversized headers (431) and
// bodies (413), and connections over max_connections get a 503 and are closed.
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <thread>

#include "tools/serve/http.h"

namespace tollgate::serve {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;

namespace {

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

}  // namespace

std::string_view HttpRequest::header(std::string_view name) const {
  for (const auto& h : headers)
    if (iequals(h.first, name)) return h.second;
  return {};
}

bool HttpRequest::query_param(std::string_view name, std::string_view* value) const {
  std::string_view q = query;
  while (!q.empty()) {
    size_t amp = q.find('&');
    std::string_view part = q.substr(0, amp);
    size_t eq = part.find('=');
    if (part.substr(0, eq) == name) {
      *value = eq == std::string_view::npos ? std::string_view() : part.substr(eq + 1);
      return true;
    }
    if (amp == std::string_view::npos) break;
    q.remove_prefix(amp + 1);
  }
  return false;
}

struct HttpServer::Impl {
  HttpServerOptions options;
  HttpHandler handler;
  // Declared before ioc: sessions still queued in it when it is destroyed decrement `open`.
  std::atomic<int64_t> open{0};
  std::atomic<int64_t> in_flight{0};  // requests received and not yet fully answered
  std::atomic<uint64_t> accepted{0}, rejected{0}, timeouts{0}, bad{0};
  std::atomic<bool> draining{false};
  std::atomic<bool> stopped{false};
  std::mutex drain_mu;
  std::condition_variable drain_cv;

  net::io_context ioc;
  std::optional<tcp::acceptor> acceptor;
  std::vector<std::thread> threads;
  uint16_t bound_port = 0;

  Impl(HttpServerOptions o, HttpHandler h) : options(std::move(o)), handler(std::move(h)) {}
  void do_accept();
  void request_done() {
    if (in_flight.fetch_sub(1) == 1) {
      std::lock_guard<std::mutex> lock(drain_mu);
      drain_cv.notify_all();
    }
  }
};

namespace {

// The request parser: Beast's HTTP/1 state machine (limits, chunked bodies, keep-alive rules)
// with the method, target, fields and body copied into buffers the session owns and reuses, so a
// request on a warm keep-alive connection allocates nothing. Offsets, not views, while parsing:
// the text buffer may grow.
class RequestParser : public http::basic_parser<true> {
 public:
  struct Span {
    uint32_t at = 0, len = 0;
  };
  RequestParser(std::string* text, std::string* body, std::vector<std::pair<Span, Span>>* fields)
      : text_(text), body_(body), fields_(fields) {
    text_->clear();
    body_->clear();
    fields_->clear();
  }
  Span method, target;
  int version = 11;
  std::string_view view(Span s) const { return std::string_view(text_->data() + s.at, s.len); }

 private:
  Span keep(beast::string_view s) {
    Span out{static_cast<uint32_t>(text_->size()), static_cast<uint32_t>(s.size())};
    text_->append(s.data(), s.size());
    return out;
  }
  void on_request_impl(http::verb, beast::string_view method_str, beast::string_view target_str,
                       int v, beast::error_code&) override {
    method = keep(method_str);
    target = keep(target_str);
    version = v;
  }
  void on_response_impl(int, beast::string_view, int, beast::error_code&) override {}
  void on_field_impl(http::field, beast::string_view name, beast::string_view value,
                     beast::error_code&) override {
    const Span n = keep(name);
    fields_->emplace_back(n, keep(value));
  }
  void on_header_impl(beast::error_code&) override {}
  void on_body_init_impl(const boost::optional<std::uint64_t>& length,
                         beast::error_code&) override {
    if (length) body_->reserve(static_cast<size_t>(*length));  // within body_limit already
  }
  size_t on_body_impl(beast::string_view data, beast::error_code&) override {
    body_->append(data.data(), data.size());
    return data.size();
  }
  void on_chunk_header_impl(std::uint64_t, beast::string_view, beast::error_code&) override {}
  size_t on_chunk_body_impl(std::uint64_t, beast::string_view data, beast::error_code&) override {
    body_->append(data.data(), data.size());
    return data.size();
  }
  void on_finish_impl(beast::error_code&) override {}

  std::string* text_;
  std::string* body_;
  std::vector<std::pair<Span, Span>>* fields_;
};

// One connection: read a request, call the handler, write the answer, repeat while keep-alive.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket&& socket, HttpServer::Impl* server)
      : stream_(std::move(socket)), server_(server) {
    beast::error_code ec;
    auto ep = stream_.socket().remote_endpoint(ec);
    if (!ec) peer_ = ep.address().to_string() + ":" + std::to_string(ep.port());
  }
  ~Session() { server_->open.fetch_sub(1); }

  void start() {
    net::dispatch(stream_.get_executor(),
                  beast::bind_front_handler(&Session::wait_for_request, shared_from_this()));
  }

 private:
  // Between requests: wait (idle timeout) for the first bytes of the next one.
  void wait_for_request() {
    if (buffer_.size() > 0) return read_request();
    if (server_->draining.load()) return close();
    stream_.expires_after(std::chrono::milliseconds(server_->options.idle_timeout_ms));
    auto space = buffer_.prepare(4096);
    stream_.async_read_some(
        space, beast::bind_front_handler(&Session::on_first_bytes, shared_from_this()));
  }

  void on_first_bytes(beast::error_code ec, size_t n) {
    if (ec == beast::error::timeout) server_->timeouts.fetch_add(1);
    if (ec) return close();
    buffer_.commit(n);
    read_request();
  }

  // A request has begun: all of it must arrive within the read timeout.
  void read_request() {
    parser_.emplace(&text_, &body_, &fields_);
    parser_->body_limit(server_->options.max_body_bytes);
    parser_->header_limit(static_cast<uint32_t>(server_->options.max_header_bytes));
    stream_.expires_after(std::chrono::milliseconds(server_->options.read_timeout_ms));
    http::async_read(stream_, buffer_, *parser_,
                     beast::bind_front_handler(&Session::on_read, shared_from_this()));
  }

  void on_read(beast::error_code ec, size_t) {
    if (ec == http::error::end_of_stream) return close();
    if (ec == beast::error::timeout) {
      // Beast has closed the socket when the timer fired: no 408 can be sent (nginx also just
      // closes on client_header_timeout).
      server_->timeouts.fetch_add(1);
      return close();
    }
    if (ec == http::error::body_limit) {
      server_->bad.fetch_add(1);
      return reply_error(413, "request body larger than " +
                                  std::to_string(server_->options.max_body_bytes) + " bytes");
    }
    if (ec == http::error::header_limit) {
      server_->bad.fetch_add(1);
      return reply_error(431, "request headers larger than " +
                                  std::to_string(server_->options.max_header_bytes) + " bytes");
    }
    if (ec == net::error::operation_aborted || ec == net::error::connection_reset ||
        ec == net::error::eof || ec == http::error::partial_message)
      return close();
    if (ec) {
      server_->bad.fetch_add(1);
      return reply_error(400, "malformed HTTP request: " + ec.message());
    }
    server_->in_flight.fetch_add(1);
    counted_ = true;
    handle(*parser_);
  }

  void handle(const RequestParser& p) {
    HttpRequest& req = request_;
    req.method = p.view(p.method);
    std::string_view target = p.view(p.target);
    size_t q = target.find('?');
    req.path = target.substr(0, q);
    req.query = q != std::string_view::npos ? target.substr(q + 1) : std::string_view();
    req.headers.clear();
    for (const auto& [name, value] : fields_) req.headers.emplace_back(p.view(name), p.view(value));
    req.body = body_;
    req.peer = peer_;
    head_ = req.method == "HEAD";
    version_ = p.version;

    HttpResponse& resp = response_;
    resp.status = 200;
    resp.content_type = "application/json";
    resp.headers.clear();
    resp.body.clear();
    try {
      server_->handler(req, &resp);
    } catch (const std::exception& e) {
      resp.status = 500;
      resp.headers.clear();
      resp.body = "{\"error\":\"internal error\"}";
    }
    keep_alive_ = p.keep_alive() && !server_->draining.load();
    write();
  }

  void reply_error(int status, const std::string& message) {
    HttpResponse& resp = response_;
    resp.status = status;
    resp.content_type = "application/json";
    resp.headers.clear();
    // The message is ours (no client bytes), so it needs no JSON escaping.
    resp.body = "{\"error\":\"" + message + "\"}";
    keep_alive_ = false;  // the stream position is unknown after a failed parse
    head_ = false;
    version_ = 11;
    write();
  }

  // Serializes response_ into out_ (reused) and sends it. The service's header values carry no
  // CR or LF (it replaces control bytes), so they are written as they are.
  void write() {
    const HttpResponse& resp = response_;
    out_.clear();
    out_.append("HTTP/1.1 ");
    out_.append(std::to_string(resp.status));
    out_.push_back(' ');
    const beast::string_view reason = http::obsolete_reason(static_cast<http::status>(resp.status));
    out_.append(reason.data(), reason.size());
    out_.append("\r\nServer: tollgate\r\n");
    if (!resp.body.empty() || resp.status != 204) {
      out_.append("Content-Type: ");
      out_.append(resp.content_type);
      out_.append("\r\n");
    }
    for (const auto& [name, value] : resp.headers) {
      out_.append(name.data(), name.size());
      out_.append(": ");
      out_.append(value);
      out_.append("\r\n");
    }
    if (resp.status != 204 && resp.status != 304) {
      out_.append("Content-Length: ");
      out_.append(std::to_string(resp.body.size()));
      out_.append("\r\n");
    }
    if (!keep_alive_) {
      out_.append("Connection: close\r\n");
    } else if (version_ == 10) {
      out_.append("Connection: keep-alive\r\n");
    }
    out_.append("\r\n");
    if (!head_) out_.append(resp.body);
    stream_.expires_after(std::chrono::milliseconds(server_->options.read_timeout_ms));
    net::async_write(stream_, net::buffer(out_),
                     beast::bind_front_handler(&Session::on_write, shared_from_this()));
  }

  void on_write(beast::error_code ec, size_t) {
    if (counted_) {
      counted_ = false;
      server_->request_done();
    }
    if (ec || !keep_alive_) return close();
    parser_.reset();
    wait_for_request();
  }

  void close() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    stream_.socket().close(ec);
  }

  beast::tcp_stream stream_;
  HttpServer::Impl* server_;
  beast::flat_buffer buffer_;
  // Reused by every request of the connection: their capacity is the only memory it keeps.
  std::optional<RequestParser> parser_;
  std::string text_, body_, out_;
  std::vector<std::pair<RequestParser::Span, RequestParser::Span>> fields_;
  HttpRequest request_;
  HttpResponse response_;
  bool head_ = false;
  int version_ = 11;
  std::string peer_;
  bool keep_alive_ = true;
  bool counted_ = false;
};

// Answers a connection over the limit with 503 and closes it.
void refuse(tcp::socket socket) {
  static const char kBusy[] =
      "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nConnection: "
      "close\r\nContent-Length: 33\r\n\r\n{\"error\":\"too many connections\"}";
  auto s = std::make_shared<tcp::socket>(std::move(socket));
  net::async_write(*s, net::buffer(kBusy, sizeof(kBusy) - 1), [s](beast::error_code, size_t) {
    beast::error_code ec;
    s->shutdown(tcp::socket::shutdown_send, ec);
    s->close(ec);
  });
}

}  // namespace

void HttpServer::Impl::do_accept() {
  acceptor->async_accept(net::make_strand(ioc), [this](beast::error_code ec, tcp::socket socket) {
    if (ec) {
      if (ec == net::error::operation_aborted || !acceptor->is_open()) return;
    } else if (open.load() >= options.max_connections) {
      rejected.fetch_add(1);
      refuse(std::move(socket));
    } else {
      accepted.fetch_add(1);
      open.fetch_add(1);
      beast::error_code nd;
      socket.set_option(tcp::no_delay(true), nd);
      std::make_shared<Session>(std::move(socket), this)->start();
    }
    if (!draining.load()) do_accept();
  });
}

HttpServer::HttpServer(HttpServerOptions options, HttpHandler handler)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(handler))) {}

HttpServer::~HttpServer() {
  stop();
}

bool HttpServer::start(std::string* error) {
  Impl& s = *impl_;
  beast::error_code ec;
  auto address = net::ip::make_address(s.options.host, ec);
  if (ec) {
    *error = "bad listen address '" + s.options.host + "': " + ec.message();
    return false;
  }
  tcp::endpoint ep(address, s.options.port);
  s.acceptor.emplace(s.ioc);
  s.acceptor->open(ep.protocol(), ec);
  if (!ec) s.acceptor->set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) s.acceptor->bind(ep, ec);
  if (!ec) s.acceptor->listen(net::socket_base::max_listen_connections, ec);
  if (ec) {
    *error = "cannot listen on " + s.options.host + ":" + std::to_string(s.options.port) + ": " +
             ec.message();
    s.acceptor.reset();
    return false;
  }
  s.bound_port = s.acceptor->local_endpoint().port();
  s.do_accept();
  int n = s.options.threads < 1 ? 1 : s.options.threads;
  for (int i = 0; i < n; ++i) s.threads.emplace_back([&s] { s.ioc.run(); });
  return true;
}

uint16_t HttpServer::port() const {
  return impl_->bound_port;
}

void HttpServer::stop() {
  Impl& s = *impl_;
  if (s.stopped.exchange(true)) return;
  s.draining.store(true);
  if (s.acceptor) {
    net::post(s.ioc, [&s] {
      beast::error_code ec;
      s.acceptor->close(ec);
    });
  }
  {
    std::unique_lock<std::mutex> lock(s.drain_mu);
    s.drain_cv.wait_for(lock, std::chrono::milliseconds(s.options.drain_timeout_ms),
                        [&s] { return s.in_flight.load() == 0; });
  }
  s.ioc.stop();
  for (auto& t : s.threads) t.join();
  s.threads.clear();
}

HttpServerStats HttpServer::stats() const {
  HttpServerStats st;
  st.connections_accepted = impl_->accepted.load();
  st.connections_rejected = impl_->rejected.load();
  st.timeouts = impl_->timeouts.load();
  st.bad_requests = impl_->bad.load();
  st.connections_open = impl_->open.load();
  return st;
}

}  // namespace tollgate::serve
