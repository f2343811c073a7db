#pragma once
// How episodes read on a terminal: the one-line-per-episode table of `ctmon events` and the
// pieces `ctmon show` reuses (counter labels, ratios, durations). Pure formatting: everything
// comes in as arguments (records, the Terminal, the time zone via TZ), nothing is printed here.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "monitor/cli/terminal.h"
#include "monitor/events/event_record.h"
#include "monitor/store/event_store.h"

namespace ctmon::cli {

/// "tcp_conntrack_fwd_invalid" -> "tcp fwd invalid"; names outside the scheme are kept as they are.
[[nodiscard]] std::string counter_label(std::string_view counter_name);

/// Peak against the usual rate, for a column: "34x" (>= 10), "2.5x", "-80%" (a fall), "from ~0"
/// (or "to 3" for a fall) when the usual rate is below ratio_is_meaningful's floor.
[[nodiscard]] std::string format_ratio(const events::Evidence& e);

/// The change with its peak, for `ctmon events`: "48x to 256 pps", "-80% to 96 pps",
/// "~0 to 180 pps".
[[nodiscard]] std::string format_change(const events::Evidence& e);

/// A rate for people: "34", "2.2", "0.06", "1.2k".
[[nodiscard]] std::string format_pps(double pps);

/// The column titles of event_line(), cut to the terminal's width.
[[nodiscard]] std::string event_table_header(const Terminal& term);

/// One episode on one line, cut to term.width columns: id, local start (MM-DD HH:MM:SS),
/// duration ("open" while running), kind, score, the top two counters with their ratio, then
/// the summary. Colour (score, open) only when term.colour.
[[nodiscard]] std::string event_line(const store::EventRecord& record, const Terminal& term);

}  // namespace ctmon::cli
