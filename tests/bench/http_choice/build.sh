#!/bin/sh
D=$(cd "$(dirname "$0")" && pwd)  # this folder: sources, bin/, raw/ and tmp/ live here
set -ex
cd "$(dirname "$0")"
mkdir -p bin logs raw tmp/body tmp/proxy tmp/fastcgi tmp/uwsgi tmp/scgi
g++ -std=c++17 -O2 -o bin/beast_server src/beast_server.cpp -pthread
# must use the .pc flags: the Debian .so was built with OPENSSL/ZLIB/BROTLI support (ABI)
g++ -std=c++17 -O2 $(pkg-config --cflags cpp-httplib) -o bin/httplib_server src/httplib_server.cpp $(pkg-config --libs cpp-httplib) -pthread
