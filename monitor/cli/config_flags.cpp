#include "monitor/cli/config_flags.h"

#include <fmt/core.h>

#include "core/time.h"
#include "monitor/config/config_keys.h"
#include "monitor/user_error.h"

namespace ctmon::cli {

// One slot per key of the table, at the key's index; CLI11 writes into them while parsing.
struct ConfigFlags::Values {
  struct Slot {
    std::optional<std::string> text;  ///< an option's value as given
    std::vector<std::string> texts;   ///< a repeatable option's values, in order
    bool given = false;               ///< a bool key's flag
  };
  std::optional<std::string> config_path;
  std::vector<Slot> slots = std::vector<Slot>(config_keys().size());
};

namespace {

bool has_flag(const ConfigKey& key, ConfigScope scope) {
  switch (scope) {
    case ConfigScope::kAll:
    case ConfigScope::kExample:
      return (key.flag_scopes & kFlagOfRun) != 0;
    case ConfigScope::kDatabase:
      return (key.flag_scopes & kFlagOfReaders) != 0;
    case ConfigScope::kReplay:
      return (key.flag_scopes & kFlagOfReplay) != 0;
  }
  return false;
}

// "time between samples (50ms to 30s; default 5s)": the table's help with the limits and the
// built-in default, so --help, the example files and the code cannot disagree.
std::string flag_description(const ConfigKey& key) {
  if (key.is_bool()) return std::string(key.flag_help.empty() ? key.help : key.flag_help);
  std::vector<std::string> notes;
  if (key.is_duration())
    notes.push_back(fmt::format("{} to {}", format_duration_exact(key.min_s), format_duration_exact(key.max_s)));
  std::string choices;
  for (const ConfigChoice& choice : key.choices)
    choices += fmt::format("{}{}", choices.empty() ? "" : " or ", choice.value);
  if (!choices.empty()) notes.push_back(choices);
  if (const std::string value = key.text_value(Config{}); !value.empty())
    notes.push_back("default " + value);
  std::string text(key.help);
  for (std::size_t i = 0; i < notes.size(); ++i)
    text += fmt::format("{}{}", i == 0 ? " (" : "; ", notes[i]);
  return notes.empty() ? text : text + ")";
}

constexpr const char* kDurationForms =
    "not a duration; write seconds (300, 0.5) or a number with a unit (500ms, 30s, 5m, 48h, 30d)";

// Sets `key` from the text given to its flag, or throws naming the flag, the text and what is
// allowed.
void set_from_flag(Config& config, const ConfigKey& key, const std::string& text) {
  const std::string flag = key.flag();
  std::visit(
      [&](const auto& member) {
        using T = std::decay_t<decltype(member.of(config))>;
        if constexpr (std::is_same_v<T, double>) {
          const auto seconds = parse_duration_s(text);
          if (!seconds) throw UserError(fmt::format("{} {}: {}", flag, text, kDurationForms));
          member.of(config) = *seconds;
        } else if constexpr (std::is_same_v<T, std::string>) {
          member.of(config) = text;
        }
      },
      key.member);
  if (const auto problem = key.problem(config))
    throw UserError(fmt::format("{} {} is not allowed: {}", flag, text, *problem));
}

}  // namespace

ConfigFlags::ConfigFlags(CLI::App* command, ConfigScope scope)
    : values_(std::make_shared<Values>()), scope_(scope) {
  Values& v = *values_;
  if (scope == ConfigScope::kReplay)
    command->add_option("--config", v.config_path,
                        "TOML config file to take the InfluxDB settings and episode_gap from");
  else if (scope != ConfigScope::kExample)
    command->add_option("--config", v.config_path,
                        fmt::format("TOML config file (default: {} when it exists)",
                                    kDefaultConfigPath))
        ->type_name("PATH");
  CLI::App* group = command;
  std::string_view section;
  const auto keys = config_keys();
  for (std::size_t i = 0; i < keys.size(); ++i) {
    const ConfigKey& key = keys[i];
    if (!has_flag(key, scope)) continue;
    if (key.section() != section) {
      section = key.section();
      for (const ConfigSection& s : config_sections())
        if (s.name == section) group = command->add_option_group(std::string(s.title), std::string(s.help));
    }
    if (key.is_bool()) {
      group->add_flag(key.flag(), v.slots[i].given, flag_description(key));
    } else if (key.repeatable) {
      CLI::Option* option = group->add_option(key.flag(), v.slots[i].texts,
                                              flag_description(key) + "; may be repeated");
      option->type_name(std::string(key.value_name))->allow_extra_args(false);
    } else {
      CLI::Option* option = group->add_option(key.flag(), v.slots[i].text, flag_description(key));
      option->type_name(std::string(key.value_name));
    }
  }
  if (scope == ConfigScope::kReplay)
    if (CLI::Option* db = command->get_option_no_throw("--db"))
      db->description("also store the samples and episodes in this database, exactly as 'ctmon "
                      "run' would, so 'ctmon events' and 'ctmon series' work on the replayed "
                      "data");
}

Config ConfigFlags::resolve() const {
  const Values& v = *values_;
  Config config;
  if (v.config_path)
    load_config_file(config, *v.config_path, true);
  else if (scope_ != ConfigScope::kReplay && scope_ != ConfigScope::kExample)
    load_config_file(config, std::string(kDefaultConfigPath), false);

  const auto keys = config_keys();
  for (std::size_t i = 0; i < keys.size(); ++i) {
    const Values::Slot& slot = v.slots[i];
    if (slot.text) set_from_flag(config, keys[i], *slot.text);
    if (!slot.texts.empty()) {
      std::string joined;
      for (const std::string& text : slot.texts) joined += (joined.empty() ? "" : ",") + text;
      set_from_flag(config, keys[i], joined);
    }
    // A bool flag sets the opposite of the built-in default (--syslog, --no-install-rules).
    if (slot.given)
      std::get<ConfigMember<bool>>(keys[i].member).of(config) =
          !std::get<ConfigMember<bool>>(keys[i].member).of(Config{});
  }
  validate_config(config);
  if (scope_ == ConfigScope::kReplay) {
    const std::size_t db = static_cast<std::size_t>(find_config_key("db") - keys.data());
    config.db = v.slots[db].text.value_or("");  // never a file's db
  }
  return config;
}

CLI::Validator duration_in_seconds() {
  return CLI::Validator(
      [](std::string& text) -> std::string {
        const std::optional<double> seconds = parse_duration_s(text);
        if (!seconds || *seconds < 0) return fmt::format("'{}' is {}", text, kDurationForms);
        text = fmt::format("{}", *seconds);
        return {};
      },
      "");
}

}  // namespace ctmon::cli
