// Null cpp-httplib server. usage: httplib_server PORT [POOL(0=lib default)] [keepalive_max_count(0=default 5)] [nodelay 0|1]
// NOTE: Debian's libcpp-httplib-dev is the *compiled split* build (libcpp-httplib.so);
// Server::Server() lives in the .so, so -DCPPHTTPLIB_THREAD_POOL_COUNT=N in our TU has
// no effect. The equivalent public knob is Server::new_task_queue (used here when POOL>0).
// Library default pool = max(8, hardware_concurrency-1) = 8 on this 2-core box.
#include <httplib.h>
#include <iostream>
int main(int argc, char** argv) {
  int port = argc > 1 ? std::atoi(argv[1]) : 8082;
  int pool = argc > 2 ? std::atoi(argv[2]) : 0;
  httplib::Server svr;
  if (pool > 0) svr.new_task_queue = [pool] { return new httplib::ThreadPool(pool); };
  if (argc > 3 && std::atoi(argv[3]) > 0) svr.set_keep_alive_max_count(std::atoi(argv[3]));
  bool nodelay = argc > 4 && std::atoi(argv[4]);
  svr.set_tcp_nodelay(nodelay);  // library default CPPHTTPLIB_TCP_NODELAY=false
  svr.set_read_timeout(5, 0);  // same as default CPPHTTPLIB_READ_TIMEOUT_SECOND=5
  auto h = [](const httplib::Request&, httplib::Response& res) {
    res.set_content("{\"ok\":true}", "application/json");
  };
  const char* pat = "/.*";
  svr.Get(pat, h); svr.Post(pat, h); svr.Put(pat, h); svr.Delete(pat, h);
  svr.Patch(pat, h); svr.Options(pat, h);
  std::cerr << "httplib " << CPPHTTPLIB_VERSION << " pool=" << (pool ? pool : 8)
            << " kamax=" << (argc > 3 ? argv[3] : "0") << " nodelay=" << nodelay << " port " << port << "\n";
  if (!svr.listen("127.0.0.1", port)) { std::cerr << "listen failed\n"; return 1; }
}
