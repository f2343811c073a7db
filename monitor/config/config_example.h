#pragma once
// The example configuration files shipped with ctmon, and the key list the OpenWrt init script
// reads, all written from the key table (config_keys.h): `ctmon config example` and
// `ctmon config keys` print them, and a test compares the shipped files with them.

#include <string>

#include "monitor/config/config.h"

namespace ctmon {

enum class ExampleFormat {
  kToml,  ///< /etc/ctmon/ctmon.toml (packaging/ctmon.toml)
  kUci,   ///< OpenWrt's /etc/config/ctmon (packaging/openwrt/files/ctmon.config)
};

/// Every key, each after its help (what it does, what is allowed, whether SIGHUP applies it).
/// A key whose value in `config` is the built-in default is commented out (it shows the
/// default); the others are set. The header names the command that reproduces the text.
[[nodiscard]] std::string config_example(const Config& config, ExampleFormat format);

/// One line per key, in table order, fields separated by a space, for scripts (the OpenWrt
/// init script turns UCI options into TOML with it) and for people:
///   KEY TYPE FLAG UCI-OPTION SIGHUP DEFAULT
/// TYPE is string, duration or bool; SIGHUP is "applied" or "restart"; DEFAULT (the built-in
/// default as text, possibly empty or with spaces) is the rest of the line. A first line
/// starting with '#' names the fields.
[[nodiscard]] std::string config_keys_listing();

}  // namespace ctmon
