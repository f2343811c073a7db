#pragma once
// The minutes a reader of the database cannot see yet: the daemon commits every commit interval
// (5 minutes by default) and keeps the samples in between in RAM. `ctmon show` and `ctmon series`
// ask the daemon for them on its status socket and append them to what they read.

#include <cstdint>

#include "monitor/config/config.h"
#include "monitor/store/sample_reader.h"

namespace ctmon::cli {

/// Appends to `series` the samples that the daemon of `config.status_file` holds in RAM for
/// `config.db`, newer than the newest sample in `series` and in [since_wall_ns, until_wall_ns).
/// Does nothing when no daemon answers within a second or when it writes another database:
/// what is stored is then all there is.
void add_live_samples(store::Series& series, const Config& config, std::int64_t since_wall_ns,
                      std::int64_t until_wall_ns);

}  // namespace ctmon::cli
