#include "core/sample.h"

#include <catch2/catch.hpp>

using namespace ctmon;

TEST_CASE("CounterCatalog keeps a name's id once given") {
  CounterCatalog catalog;
  CHECK(catalog.intern("tcp_conntrack_fwd_new") == 0);
  CHECK(catalog.intern("udp_conntrack_input_new") == 1);
  CHECK(catalog.intern("tcp_conntrack_fwd_new") == 0);
  CHECK(catalog.size() == 2);
  CHECK(catalog.find("udp_conntrack_input_new") == 1);
  CHECK(catalog.find("missing") == catalog.size());
  CHECK(catalog.name(1) == "udp_conntrack_input_new");
}

TEST_CASE("parse_counter_name splits names that follow the rules' scheme") {
  const CounterName n = parse_counter_name("tcp_conntrack_fwd_invalid");
  CHECK(n.conforms);
  CHECK(n.proto == "tcp");
  CHECK(n.hook == "fwd");
  CHECK(n.state == "invalid");
  // The state may itself contain underscores; only the first one after the hook splits.
  CHECK(parse_counter_name("udp_conntrack_input_new_x").state == "new_x");
}

TEST_CASE("parse_counter_name rejects names outside the scheme") {
  for (const char* bad : {"", "tcp", "_conntrack_fwd_new", "tcp_conntrack_", "tcp_conntrack_fwd",
                          "tcp_conntrack_fwd_", "tcp_conntrack__new"}) {
    INFO(bad);
    const CounterName n = parse_counter_name(bad);
    CHECK_FALSE(n.conforms);
    CHECK(n.proto.empty());
  }
}
