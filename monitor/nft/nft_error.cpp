#include "monitor/nft/nft_error.h"

#include <cerrno>
#include <cstring>

#include <fmt/core.h>

namespace ctmon::nft {

NftError error_from_errno(int err, const TableRef& table, const std::string& doing) {
  switch (err) {
    case EPERM:
    case EACCES:
      return {NftErrorKind::kNoPermission,
              fmt::format("{} table {} needs CAP_NET_ADMIN (the kernel asks for it even to read "
                          "counters): run as root, or grant it with "
                          "'setcap cap_net_admin+ep \"$(command -v ctmon)\"' or "
                          "AmbientCapabilities=CAP_NET_ADMIN in the systemd unit",
                          doing, table.display())};
    case EINVAL:  // nfnetlink's answer when no nf_tables subsystem is registered
    case EPROTONOSUPPORT:
    case EAFNOSUPPORT:
    case EOPNOTSUPP:
      return {NftErrorKind::kNfTablesAbsent,
              fmt::format("{} table {}: this kernel has no nf_tables ({}); load it with "
                          "'modprobe nf_tables' (OpenWrt: install kmod-nft-core)",
                          doing, table.display(), std::strerror(err))};
    case ENOBUFS:
      return {NftErrorKind::kBufferOverrun,
              fmt::format("{} table {}: the netlink receive buffer overran and the kernel dropped "
                          "replies, even after retrying; raise net.core.rmem_max or sample less "
                          "often",
                          doing, table.display())};
    case ENOENT:
      return table_missing_error(table, "");
    default:
      return {NftErrorKind::kOther,
              fmt::format("{} table {}: {}", doing, table.display(), std::strerror(err))};
  }
}

NftError table_missing_error(const TableRef& table, const std::string& other_families) {
  std::string hint;
  if (!other_families.empty())
    hint = fmt::format("; a table named {} exists in family {}: did you mean --table {}:{}?",
                       table.name(), other_families,
                       other_families.substr(0, other_families.find(',')), table.name());
  return {NftErrorKind::kTableMissing,
          fmt::format("table {} does not exist: create it with 'ctmon rules install{}'{}",
                      table.display(),
                      table == TableRef{} ? std::string()
                                          : " --table " + table.option_text(),
                      hint)};
}

}  // namespace ctmon::nft
