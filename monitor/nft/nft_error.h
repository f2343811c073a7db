#pragma once
// The errors the kernel's nf_tables can answer, each turned into the one line a user needs:
// what went wrong and the command that fixes it.

#include <string>

#include "monitor/nft/table_ref.h"
#include "monitor/user_error.h"

namespace ctmon::nft {

enum class NftErrorKind {
  kTableMissing,    ///< the table is not there (never created, deleted, or `nft flush ruleset`)
  kNoPermission,    ///< no CAP_NET_ADMIN: every nfnetlink message needs it, reads too
  kNfTablesAbsent,  ///< the kernel has no nf_tables (module not loaded / not built)
  kBufferOverrun,   ///< the kernel dropped replies because our receive buffer was full
  kOther,           ///< anything else the kernel said; the message carries its strerror
};

class NftError : public UserError {
 public:
  NftError(NftErrorKind kind, const std::string& message) : UserError(message), kind_(kind) {}
  [[nodiscard]] NftErrorKind kind() const { return kind_; }

 private:
  NftErrorKind kind_;
};

/// Builds the error for a failed netlink request about `table`. `err` is the positive errno the
/// kernel (or libmnl) reported; `doing` says what ctmon was doing ("reading the counters of").
[[nodiscard]] NftError error_from_errno(int err, const TableRef& table, const std::string& doing);

/// The error for a table that does not exist. `other_families` lists (comma-separated) the
/// families where a table of the same name does exist, to suggest the right --table; may be empty.
[[nodiscard]] NftError table_missing_error(const TableRef& table,
                                           const std::string& other_families);

}  // namespace ctmon::nft
