#!/usr/bin/env bash
# Fails when a module includes a header against the dependency direction:
# routing/ and storage/ know nothing of the broker; client/ shares only the
# wire codec (warren/protocol). See docs/ARCHITECTURE.md.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
bad=0
check() { # folder pattern message
  local hits
  hits=$(grep -rnE "$2" "$1" --include='*.cpp' --include='*.hpp' --include='*.h' 2>/dev/null)
  if [ -n "$hits" ]; then
    echo "layering: $3"
    echo "$hits"
    bad=1
  fi
}
check routing '#include +[<"](broker|storage|client|boost/asio|boost/beast)' "routing/ must not include broker, storage, client or I/O headers"
check storage '#include +[<"](broker|routing|client|boost/asio|boost/beast)' "storage/ must not include broker, routing, client or socket headers"
check client '#include +[<"](broker|routing|storage)/|#include +[<"]warren/(broker|routing|storage|admin)/|#include +"(channel|connection|vhost|queue|broker|router|persister)\.hpp"|#include +[<"]rocksdb/' "client/ may use only warren/protocol (never broker/src, routing or storage)"
# The client library target links the codec only, never the broker, routing or storage.
if grep -nE 'warren_(broker|routing|storage)|warren::(broker|routing|storage)' client/CMakeLists.txt client/*/CMakeLists.txt 2>/dev/null; then
  echo "layering: client/ must link only warren_protocol (plus Boost, fmt, Threads)"
  bad=1
fi
check broker/protocol '#include +[<"]warren/(routing|broker)|#include +"(channel|connection|vhost|queue)\.hpp"' "the codec is a leaf: it includes nothing of ours"
# The admin HTTP API sits on top of the broker core: the core (everything in
# broker/src outside admin/, except main.cpp which wires them) never includes it.
admin_hits=$(grep -rnE '#include +"admin/' broker/src --include='*.cpp' --include='*.hpp' 2>/dev/null |
  grep -v '^broker/src/admin/' | grep -v '^broker/src/main.cpp:')
if [ -n "$admin_hits" ]; then
  echo "layering: the broker core must not include the admin API"
  echo "$admin_hits"
  bad=1
fi
if grep -rlE '#include +[<"]rocksdb/' --include='*.cpp' --include='*.hpp' . 2>/dev/null | grep -v '^./storage/' | grep -v '^./build/' | grep -q .; then
  echo "layering: RocksDB headers outside storage/"
  bad=1
fi
[ $bad = 0 ] && echo "layering: ok"
exit $bad
