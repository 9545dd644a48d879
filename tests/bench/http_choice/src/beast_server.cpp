// Null Boost.Beast HTTP/1.1 server.
// usage: beast_server PORT MODE THREADS   MODE = shared | reuseport
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/optional.hpp>
#include <iostream>
#include <memory>
#include <thread>
#include <vector>
#include <cstring>

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

static const std::chrono::seconds kReadTimeout(5);
static const char kBody[] = "{\"ok\":true}";

class Session : public std::enable_shared_from_this<Session> {
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_{8192};
  boost::optional<http::request_parser<http::empty_body>> parser_;
  http::response<http::string_body> res_;

public:
  explicit Session(tcp::socket&& s) : stream_(std::move(s)) {}
  void start() { do_read(); }

private:
  void do_read() {
    parser_.emplace();
    parser_->body_limit(64 * 1024);
    parser_->header_limit(8 * 1024);
    stream_.expires_after(kReadTimeout);
    http::async_read(stream_, buffer_, *parser_,
                     beast::bind_front_handler(&Session::on_read, shared_from_this()));
  }
  void on_read(beast::error_code ec, std::size_t) {
    if (ec) {  // timeout, EOF, limits exceeded, parse error -> close
      beast::error_code ig;
      stream_.socket().shutdown(tcp::socket::shutdown_both, ig);
      return;
    }
    auto const& req = parser_->get();
    res_ = {};
    res_.result(http::status::ok);
    res_.version(req.version());
    res_.set(http::field::content_type, "application/json");
    res_.keep_alive(req.keep_alive());
    res_.body() = kBody;
    res_.prepare_payload();
    stream_.expires_after(kReadTimeout);  // also bound the write
    http::async_write(stream_, res_,
                      beast::bind_front_handler(&Session::on_write, shared_from_this()));
  }
  void on_write(beast::error_code ec, std::size_t) {
    if (ec) return;
    if (!res_.keep_alive()) {
      beast::error_code ig;
      stream_.socket().shutdown(tcp::socket::shutdown_send, ig);
      return;
    }
    do_read();
  }
};

class Listener : public std::enable_shared_from_this<Listener> {
  net::io_context& ioc_;
  tcp::acceptor acc_;
public:
  Listener(net::io_context& ioc, tcp::endpoint ep, bool reuseport) : ioc_(ioc), acc_(ioc) {
    acc_.open(ep.protocol());
    acc_.set_option(net::socket_base::reuse_address(true));
    if (reuseport) {
      int one = 1;
      if (setsockopt(acc_.native_handle(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0)
        throw std::runtime_error("SO_REUSEPORT failed");
    }
    acc_.bind(ep);
    acc_.listen(net::socket_base::max_listen_connections);
  }
  void start() { do_accept(); }
private:
  void do_accept() {
    // new connection gets its own strand (needed when io_context is shared by threads)
    acc_.async_accept(net::make_strand(ioc_),
                      beast::bind_front_handler(&Listener::on_accept, shared_from_this()));
  }
  void on_accept(beast::error_code ec, tcp::socket s) {
    if (!ec) {
      s.set_option(tcp::no_delay(true));
      std::make_shared<Session>(std::move(s))->start();
    }
    do_accept();
  }
};

int main(int argc, char** argv) {
  unsigned short port = argc > 1 ? std::atoi(argv[1]) : 8081;
  std::string mode = argc > 2 ? argv[2] : "shared";
  int threads = argc > 3 ? std::atoi(argv[3]) : 2;
  auto ep = tcp::endpoint(net::ip::make_address("127.0.0.1"), port);
  std::vector<std::thread> ts;
  if (mode == "shared") {
    net::io_context ioc(threads);
    std::make_shared<Listener>(ioc, ep, false)->start();
    for (int i = 0; i < threads - 1; ++i) ts.emplace_back([&] { ioc.run(); });
    std::cerr << "beast shared io_context, " << threads << " threads, port " << port << "\n";
    ioc.run();
    for (auto& t : ts) t.join();
  } else {
    std::vector<std::unique_ptr<net::io_context>> iocs;
    for (int i = 0; i < threads; ++i) {
      iocs.emplace_back(new net::io_context(1));
      std::make_shared<Listener>(*iocs.back(), ep, true)->start();
    }
    std::cerr << "beast io_context-per-thread + SO_REUSEPORT, " << threads << " threads, port " << port << "\n";
    for (int i = 1; i < threads; ++i) ts.emplace_back([&, i] { iocs[i]->run(); });
    iocs[0]->run();
    for (auto& t : ts) t.join();
  }
}
