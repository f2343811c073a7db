#include "monitor/config/config_example.h"

#include <fmt/core.h>

#include "core/time.h"
#include "monitor/config/config_keys.h"

namespace ctmon {
namespace {

constexpr std::size_t kWidth = 98;

// `text` as comment lines of at most kWidth columns, each starting with `prefix` ("# ").
std::string comment(std::string_view prefix, std::string_view text) {
  std::string out;
  std::string line(prefix);
  std::size_t at = 0;
  while (at < text.size()) {
    std::size_t end = text.find(' ', at);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view word = text.substr(at, end - at);
    if (line.size() > prefix.size() && line.size() + 1 + word.size() > kWidth) {
      out += line + '\n';
      line = prefix;
    }
    if (line.size() > prefix.size()) line += ' ';
    line += word;
    at = end + 1;
  }
  return out + line + '\n';
}

// The key's help as a sentence, with what is allowed and what SIGHUP does with it.
std::string key_help(const ConfigKey& key) {
  std::string text(key.help);
  if (key.is_duration())
    text += fmt::format("; {} to {}", format_duration_exact(key.min_s), format_duration_exact(key.max_s));
  else if (!key.choices.empty())
    text += fmt::format(": {}", key.allowed());
  text += key.on_reload == OnReload::kApplied ? ". SIGHUP applies it." : ". A change needs a restart.";
  return text;
}

// "ctmon config example --format uci --db /etc/ctmon/ctmon.db --syslog": what reproduces it.
std::string command_for(const Config& config, std::string_view format) {
  const Config defaults;
  std::string command = fmt::format("ctmon config example --format {}", format);
  for (const ConfigKey& key : config_keys()) {
    if (key.same(config, defaults)) continue;
    command += " " + key.flag();
    if (!key.is_bool()) command += " " + key.text_value(config);
  }
  return command;
}

std::string uci_quoted(const std::string& text) {
  std::string out = "'";
  for (const char c : text) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

std::string uci_value(const ConfigKey& key, const Config& config) {
  if (key.is_bool()) return std::get<ConfigMember<bool>>(key.member).of(config) ? "'1'" : "'0'";
  return uci_quoted(key.text_value(config));
}

std::string example_toml(const Config& config) {
  const Config defaults;
  std::string out = comment(
      "# ",
      "ctmon's settings: /etc/ctmon/ctmon.toml, or the file given to --config. Every key is also "
      "a flag of 'ctmon run' (interval is --interval, [influx] url is --influx-url), and flags "
      "win. A commented-out key shows its built-in default. Durations are seconds or a number "
      "with a unit (500ms, 30s, 5m, 48h, 30d). 'ctmon config check' prints the configuration in "
      "effect; SIGHUP (systemctl reload ctmon) re-reads this file.");
  out += comment("# ", "Generated from the key table in monitor/config/config_keys.cpp by the "
                      "command on the next line; a test fails when this file differs from its "
                      "output.");
  out += fmt::format("#   {}\n", command_for(config, "toml"));
  std::string_view section;
  for (const ConfigKey& key : config_keys()) {
    if (key.section() != section) {
      section = key.section();
      for (const ConfigSection& s : config_sections())
        if (s.name == section) out += "\n" + comment("# ", fmt::format("{}: {}.", s.title, s.help));
      out += fmt::format("[{}]\n", section);
    }
    out += "\n" + comment("# ", key_help(key));
    out += fmt::format("{}{} = {}\n", key.same(config, defaults) ? "#" : "", key.leaf(),
                       key.toml_value(config));
  }
  return out;
}

std::string example_uci(const Config& config) {
  const Config defaults;
  std::string out = comment(
      "# ",
      "/etc/config/ctmon: ctmon's settings on OpenWrt. At each start /etc/init.d/ctmon writes them "
      "as /etc/ctmon/ctmon.toml, the file every ctmon command reads, after 'ctmon config check' "
      "accepted it; 'uci commit ctmon' restarts the daemon when the file changed. Each option is "
      "the key of ctmon.toml with '.' written '_' (influx_url is [influx] url); a commented-out "
      "option shows its default. Durations are seconds or a number with a unit (500ms, 30s, 5m, "
      "48h, 30d); booleans are 1 or 0.");
  out += comment(
      "# ",
      "db: /var and /tmp are RAM, lost at every reboot; /etc/ctmon is on flash (the overlay), "
      "written once per commit_interval, about 4 KiB a time. JFFS2 (NOR flash) has no shared "
      "writable mmap, which SQLite's WAL index needs: there, point db at a UBIFS, ext4 or "
      "USB-stick filesystem. status_file must stay in /var/run/ctmon, the RAM folder the daemon "
      "may write.");
  out += comment("# ", "Generated from the key table in monitor/config/config_keys.cpp by the "
                      "command on the next line; a test fails when this file differs from its "
                      "output.");
  out += fmt::format("#   {}\n", command_for(config, "uci"));
  out += "config ctmon 'main'\n";
  out += comment("\t# ", "0: the daemon is not started.");
  out += "\toption enabled '1'\n";
  for (const ConfigKey& key : config_keys()) {
    out += "\n" + comment("\t# ", key_help(key));
    out += fmt::format("\t{}{} {} {}\n", key.same(config, defaults) ? "# " : "",
                       key.repeatable ? "list" : "option", key.uci_option(), uci_value(key, config));
  }
  return out;
}

}  // namespace

std::string config_example(const Config& config, ExampleFormat format) {
  return format == ExampleFormat::kToml ? example_toml(config) : example_uci(config);
}

std::string config_keys_listing() {
  const Config defaults;
  std::string out = "# KEY TYPE FLAG UCI-OPTION SIGHUP DEFAULT\n";
  for (const ConfigKey& key : config_keys()) {
    const char* type = key.is_bool() ? "bool" : key.is_duration() ? "duration" : "string";
    out += fmt::format("{} {} {} {} {} {}\n", key.name, type, key.flag(), key.uci_option(),
                       key.on_reload == OnReload::kApplied ? "applied" : "restart",
                       key.text_value(defaults));
  }
  return out;
}

}  // namespace ctmon
