#include "monitor/nft/ruleset.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <map>
#include <memory>
#include <stdexcept>

#include <sys/auxv.h>
#include <unistd.h>

#include <fmt/core.h>
#include <libnftnl/chain.h>
#include <libnftnl/flowtable.h>
#include <libnftnl/object.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <nftables/libnftables.h>

#include "monitor/nft/counter_reader.h"
#include "monitor/nft/netlink_socket.h"
#include "monitor/nft/nft_error.h"
#include "monitor/user_error.h"
#include "rules/embedded_rules.h"

namespace ctmon::nft {
namespace {

constexpr std::string_view kDefaultTableName = "conntrack_stats";
// Each chain counts {tcp,udp} x {new,established,invalid}.
constexpr std::size_t kRulesPerChain = 6;

struct ExpectedChain {
  std::string_view name;
  std::uint32_t hook;
  std::string_view hook_name;
};
constexpr std::array<ExpectedChain, 3> kExpectedChains{{
    {"input_counter", NF_INET_LOCAL_IN, "input"},
    {"output_counter", NF_INET_LOCAL_OUT, "output"},
    {"forward_counter", NF_INET_FORWARD, "forward"},
}};

std::string hook_name(std::uint32_t hook) {
  for (const auto& chain : kExpectedChains)
    if (chain.hook == hook) return std::string(chain.hook_name);
  return fmt::format("hook {}", hook);
}

struct NftContextFree {
  void operator()(nft_ctx* context) const { nft_ctx_free(context); }
};

// Runs nft commands through libnftables and returns nft's error text ("" on success).
std::string run_nft(const std::string& commands) {
  std::unique_ptr<nft_ctx, NftContextFree> context(nft_ctx_new(NFT_CTX_DEFAULT));
  if (!context) throw std::bad_alloc();
  nft_ctx_buffer_output(context.get());
  nft_ctx_buffer_error(context.get());
  if (nft_run_cmd_from_buffer(context.get(), commands.c_str()) == 0) return {};
  std::string error = nft_ctx_get_error_buffer(context.get());
  // nft's message is several lines (the offending line, a caret); its first line says it all.
  error.resize(std::min(error.find('\n'), error.size()));
  return error.empty() ? std::string("nft refused the rules") : error;
}

struct ChainFree {
  void operator()(nftnl_chain* chain) const { nftnl_chain_free(chain); }
};
struct RuleFree {
  void operator()(nftnl_rule* rule) const { nftnl_rule_free(rule); }
};
struct SetFree {
  void operator()(nftnl_set* set) const { nftnl_set_free(set); }
};
struct ObjectFree {
  void operator()(nftnl_obj* object) const { nftnl_obj_free(object); }
};
struct FlowtableFree {
  void operator()(nftnl_flowtable* flowtable) const { nftnl_flowtable_free(flowtable); }
};

// nft's keyword for a stateful object type, as `nft list ruleset` writes it.
std::string object_type_name(std::uint32_t type) {
  switch (type) {
    case NFT_OBJECT_COUNTER: return "counter";
    case NFT_OBJECT_QUOTA: return "quota";
    case NFT_OBJECT_CT_HELPER: return "ct helper";
    case NFT_OBJECT_LIMIT: return "limit";
    case NFT_OBJECT_CONNLIMIT: return "connlimit";
    case NFT_OBJECT_CT_TIMEOUT: return "ct timeout";
    case NFT_OBJECT_SECMARK: return "secmark";
    case NFT_OBJECT_CT_EXPECT: return "ct expectation";
    case NFT_OBJECT_SYNPROXY: return "synproxy";
    default: return fmt::format("object of type {}", type);
  }
}

struct ChainInfo {
  std::string name;
  bool has_hook = false;
  std::uint32_t hook = 0;
  std::int32_t priority = 0;
  std::uint32_t policy = NF_ACCEPT;
  std::size_t rules = 0;
};

std::vector<ChainInfo> list_chains(const TableRef& table) {
  NetlinkSocket socket;
  std::vector<ChainInfo> chains;
  std::uint32_t seq = socket.next_seq();
  nlmsghdr* nlh = nftnl_nlmsg_build_hdr(socket.request_buffer(), NFT_MSG_GETCHAIN,
                                        table.nfproto(), NLM_F_DUMP, seq);
  int err = socket.request(nlh, seq, [&](const nlmsghdr* reply) {
    std::unique_ptr<nftnl_chain, ChainFree> chain(nftnl_chain_alloc());
    if (!chain || nftnl_chain_nlmsg_parse(reply, chain.get()) < 0) return MNL_CB_OK;
    if (table.name() != nftnl_chain_get_str(chain.get(), NFTNL_CHAIN_TABLE)) return MNL_CB_OK;
    ChainInfo info;
    info.name = nftnl_chain_get_str(chain.get(), NFTNL_CHAIN_NAME);
    info.has_hook = nftnl_chain_is_set(chain.get(), NFTNL_CHAIN_HOOKNUM);
    if (info.has_hook) {
      info.hook = nftnl_chain_get_u32(chain.get(), NFTNL_CHAIN_HOOKNUM);
      info.priority = nftnl_chain_get_s32(chain.get(), NFTNL_CHAIN_PRIO);
      info.policy = nftnl_chain_get_u32(chain.get(), NFTNL_CHAIN_POLICY);
    }
    chains.push_back(std::move(info));
    return MNL_CB_OK;
  });
  if (err != 0) throw error_from_errno(err, table, "listing the chains of");

  seq = socket.next_seq();
  nlh = nftnl_nlmsg_build_hdr(socket.request_buffer(), NFT_MSG_GETRULE, table.nfproto(),
                              NLM_F_DUMP, seq);
  err = socket.request(nlh, seq, [&](const nlmsghdr* reply) {
    std::unique_ptr<nftnl_rule, RuleFree> rule(nftnl_rule_alloc());
    if (!rule || nftnl_rule_nlmsg_parse(reply, rule.get()) < 0) return MNL_CB_OK;
    if (table.name() != nftnl_rule_get_str(rule.get(), NFTNL_RULE_TABLE)) return MNL_CB_OK;
    const std::string chain_name = nftnl_rule_get_str(rule.get(), NFTNL_RULE_CHAIN);
    for (auto& chain : chains)
      if (chain.name == chain_name) ++chain.rules;
    return MNL_CB_OK;
  });
  if (err != 0) throw error_from_errno(err, table, "listing the rules of");
  return chains;
}

template <class Range>
bool contains(const Range& range, std::string_view value) {
  return std::find(range.begin(), range.end(), value) != range.end();
}

}  // namespace

const std::vector<std::string>& expected_counter_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> result;
    for (const char* proto : {"tcp", "udp"})
      for (const char* hook : {"fwd", "input", "output"})
        for (const char* state : {"new", "established", "invalid"})
          result.push_back(fmt::format("{}_conntrack_{}_{}", proto, hook, state));
    return result;
  }();
  return names;
}

std::size_t expected_rule_count() { return kRulesPerChain * kExpectedChains.size(); }

std::string rules_text(const TableRef& table) {
  std::string text;
  if (table.family() == "ip")
    text = rules_text::kconntrack_counter_nft;
  else if (table.family() == "inet")
    text = rules_text::kconntrack_counter_inet_nft;
  else
    throw UserError(fmt::format(
        "no rule file for family '{}': ctmon ships rules for ip (IPv4) and inet (IPv4+IPv6); "
        "use --table ip:{} or --table inet:{}",
        table.family(), table.name(), table.name()));
  // Only where the file names its table, and only a whole identifier: the counter names, which
  // also contain "conntrack_", stay as they are.
  const std::string file_table = fmt::format("table {} {}", table.family(), kDefaultTableName);
  const std::string our_table = fmt::format("table {} {}", table.family(), table.name());
  std::size_t replaced = 0;
  std::size_t at = 0;
  while ((at = text.find(file_table, at)) != std::string::npos) {
    const std::size_t end = at + file_table.size();
    if (end < text.size() &&
        (std::isalnum(static_cast<unsigned char>(text[end])) != 0 || text[end] == '_')) {
      at = end;  // a longer name that starts like ours: not the file's table
      continue;
    }
    text.replace(at, file_table.size(), our_table);
    at += our_table.size();
    ++replaced;
  }
  // "table", "flush table" and "table ... {": a rule file that names its table otherwise would
  // be loaded under the wrong name.
  if (replaced < 3)
    throw std::logic_error("the embedded rule file does not name its table as rules_text expects");
  return text;
}

TableOwnership inspect_ownership(const TableRef& table) {
  TableOwnership ownership;
  ownership.exists = CounterReader(table).table_exists();
  if (!ownership.exists) return ownership;

  for (const ChainInfo& chain : list_chains(table)) {
    if (std::any_of(kExpectedChains.begin(), kExpectedChains.end(),
                    [&](const ExpectedChain& want) { return want.name == chain.name; }))
      ownership.holds_ctmon_parts = true;
    else
      ownership.foreign.push_back("chain " + chain.name);
  }

  NetlinkSocket socket;
  // Every stateful object, not only counters: a quota or a ct helper is someone's too.
  std::uint32_t seq = socket.next_seq();
  {
    std::unique_ptr<nftnl_obj, ObjectFree> filter(nftnl_obj_alloc());
    if (!filter) throw std::bad_alloc();
    nftnl_obj_set_str(filter.get(), NFTNL_OBJ_TABLE, table.name().c_str());
    nlmsghdr* nlh = nftnl_nlmsg_build_hdr(socket.request_buffer(), NFT_MSG_GETOBJ,
                                          table.nfproto(), NLM_F_DUMP, seq);
    nftnl_obj_nlmsg_build_payload(nlh, filter.get());
    const int err = socket.request(nlh, seq, [&](const nlmsghdr* reply) {
      std::unique_ptr<nftnl_obj, ObjectFree> object(nftnl_obj_alloc());
      if (!object || nftnl_obj_nlmsg_parse(reply, object.get()) < 0 ||
          !nftnl_obj_is_set(object.get(), NFTNL_OBJ_NAME) ||
          table.name() != nftnl_obj_get_str(object.get(), NFTNL_OBJ_TABLE))
        return MNL_CB_OK;
      const std::uint32_t type = nftnl_obj_get_u32(object.get(), NFTNL_OBJ_TYPE);
      const std::string name = nftnl_obj_get_str(object.get(), NFTNL_OBJ_NAME);
      if (type == NFT_OBJECT_COUNTER && contains(expected_counter_names(), name))
        ownership.holds_ctmon_parts = true;
      else
        ownership.foreign.push_back(object_type_name(type) + " " + name);
      return MNL_CB_OK;
    });
    if (err != 0) throw error_from_errno(err, table, "listing the objects of");
  }

  seq = socket.next_seq();
  {
    std::unique_ptr<nftnl_set, SetFree> filter(nftnl_set_alloc());
    if (!filter) throw std::bad_alloc();
    nftnl_set_set_str(filter.get(), NFTNL_SET_TABLE, table.name().c_str());
    nlmsghdr* nlh = nftnl_nlmsg_build_hdr(socket.request_buffer(), NFT_MSG_GETSET,
                                          table.nfproto(), NLM_F_DUMP, seq);
    nftnl_set_nlmsg_build_payload(nlh, filter.get());
    const int err = socket.request(nlh, seq, [&](const nlmsghdr* reply) {
      std::unique_ptr<nftnl_set, SetFree> set(nftnl_set_alloc());
      if (!set || nftnl_set_nlmsg_parse(reply, set.get()) < 0 ||
          !nftnl_set_is_set(set.get(), NFTNL_SET_NAME) ||
          table.name() != nftnl_set_get_str(set.get(), NFTNL_SET_TABLE))
        return MNL_CB_OK;
      // An anonymous set ({ a, b } inside a rule) belongs to its rule, whose chain is judged.
      const std::uint32_t flags = nftnl_set_get_u32(set.get(), NFTNL_SET_FLAGS);
      if ((flags & NFT_SET_ANONYMOUS) != 0) return MNL_CB_OK;
      ownership.foreign.push_back(std::string((flags & NFT_SET_MAP) != 0 ? "map " : "set ") +
                                  nftnl_set_get_str(set.get(), NFTNL_SET_NAME));
      return MNL_CB_OK;
    });
    if (err != 0) throw error_from_errno(err, table, "listing the sets of");
  }

  seq = socket.next_seq();
  {
    nlmsghdr* nlh = nftnl_nlmsg_build_hdr(socket.request_buffer(), NFT_MSG_GETFLOWTABLE,
                                          table.nfproto(), NLM_F_DUMP, seq);
    const int err = socket.request(nlh, seq, [&](const nlmsghdr* reply) {
      std::unique_ptr<nftnl_flowtable, FlowtableFree> flowtable(nftnl_flowtable_alloc());
      if (!flowtable || nftnl_flowtable_nlmsg_parse(reply, flowtable.get()) < 0 ||
          !nftnl_flowtable_is_set(flowtable.get(), NFTNL_FLOWTABLE_NAME) ||
          table.name() != nftnl_flowtable_get_str(flowtable.get(), NFTNL_FLOWTABLE_TABLE))
        return MNL_CB_OK;
      ownership.foreign.push_back(std::string("flowtable ") +
                                  nftnl_flowtable_get_str(flowtable.get(), NFTNL_FLOWTABLE_NAME));
      return MNL_CB_OK;
    });
    if (err != 0) throw error_from_errno(err, table, "listing the flowtables of");
  }
  return ownership;
}

void require_unelevated_caller() {
  const uid_t real = getuid();
  const uid_t effective = geteuid();
  if (real != effective)
    throw UserError(fmt::format(
        "refusing to change nftables tables: the real user (uid {}) is not the effective one "
        "(uid {}, a setuid binary); run 'ctmon rules' as root, e.g. with sudo",
        real, effective));
  if (getauxval(AT_SECURE) != 0)
    throw UserError(fmt::format(
        "refusing to change nftables tables: this ctmon got its privileges from the binary "
        "(file capabilities such as 'setcap cap_net_admin+ep', setuid or setgid), not from "
        "uid {}; run 'ctmon rules' as root, e.g. with sudo",
        real));
}

namespace {

// "chain input, chain forward, set blocked and 2 more"
std::string summary(const std::vector<std::string>& items) {
  constexpr std::size_t kShown = 3;
  std::string text;
  for (std::size_t i = 0; i < items.size() && i < kShown; ++i)
    text += (i == 0 ? "" : ", ") + items[i];
  if (items.size() > kShown) text += fmt::format(" and {} more", items.size() - kShown);
  return text;
}

}  // namespace

void install_rules(const TableRef& table, ForeignTable foreign) {
  require_unelevated_caller();
  const std::string text = rules_text(table);
  // Asking the kernel first also turns a missing CAP_NET_ADMIN into ctmon's explanation, not
  // nft's bare "Operation not permitted".
  const TableOwnership ownership = inspect_ownership(table);
  if (foreign == ForeignTable::kRefuse && !ownership.may_install())
    throw UserError(fmt::format(
        "table {} is not ctmon's: it holds {}, which the rule file does not define and "
        "installing would flush; choose another --table, or pass --force to flush it anyway",
        table.display(), summary(ownership.foreign)));
  if (const std::string error = run_nft(text); !error.empty())
    throw UserError(fmt::format("installing the rules of table {} failed: {}", table.display(),
                                error));
}

bool remove_rules(const TableRef& table, ForeignTable foreign) {
  require_unelevated_caller();
  const TableOwnership ownership = inspect_ownership(table);
  if (!ownership.exists) return false;
  if (foreign == ForeignTable::kRefuse && !ownership.may_remove())
    throw UserError(fmt::format(
        "table {} is not ctmon's: it holds {}; 'ctmon rules remove' deletes only ctmon's "
        "table: pass --force, or 'nft delete table {}', to delete it anyway",
        table.display(),
        ownership.foreign.empty() ? std::string("none of the rule file's chains or counters")
                                  : summary(ownership.foreign),
        table.display()));
  if (const std::string error = run_nft(fmt::format("delete table {}\n", table.display()));
      !error.empty())
    throw UserError(fmt::format("removing table {} failed: {}", table.display(), error));
  return true;
}

RulesCheck check_rules(const TableRef& table) {
  RulesCheck check;
  CounterReader reader(table);
  check.table_exists = reader.table_exists();
  const auto& expected = expected_counter_names();
  if (!check.table_exists) {
    check.missing_counters = expected;
    for (const auto& chain : kExpectedChains) check.missing_chains.emplace_back(chain.name);
    check.missing_rules = expected_rule_count();
    return check;
  }

  std::vector<CounterReading> counters;
  reader.read(counters);
  for (const auto& name : expected)
    if (std::none_of(counters.begin(), counters.end(),
                     [&](const CounterReading& c) { return c.name == name; }))
      check.missing_counters.push_back(name);
  for (const auto& counter : counters)
    if (!contains(expected, counter.name)) check.extra_counters.push_back(counter.name);

  const std::vector<ChainInfo> chains = list_chains(table);
  for (const auto& want : kExpectedChains) {
    const auto found = std::find_if(chains.begin(), chains.end(),
                                    [&](const ChainInfo& c) { return c.name == want.name; });
    if (found == chains.end()) {
      check.missing_chains.emplace_back(want.name);
      check.missing_rules += kRulesPerChain;
      continue;
    }
    if (!found->has_hook || found->hook != want.hook || found->priority != 0 ||
        found->policy != NF_ACCEPT)
      check.chain_problems.push_back(fmt::format(
          "chain {}: {}, expected hook {} priority 0 policy accept", want.name,
          found->has_hook ? fmt::format("hook {} priority {} policy {}", hook_name(found->hook),
                                        found->priority,
                                        found->policy == NF_ACCEPT ? "accept" : "drop")
                          : std::string("not hooked (a regular chain)"),
          want.hook_name));
    if (found->rules < kRulesPerChain) check.missing_rules += kRulesPerChain - found->rules;
    if (found->rules != kRulesPerChain)
      check.chain_problems.push_back(fmt::format("chain {}: {} rules, expected {}", want.name,
                                                 found->rules, kRulesPerChain));
  }
  for (const auto& chain : chains)
    if (std::none_of(kExpectedChains.begin(), kExpectedChains.end(),
                     [&](const ExpectedChain& want) { return want.name == chain.name; }))
      check.extra_chains.push_back(chain.name);
  return check;
}

}  // namespace ctmon::nft
