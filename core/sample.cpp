#include "core/sample.h"

#include <algorithm>

namespace ctmon {

CounterId CounterCatalog::intern(std::string_view name) {
  const CounterId id = find(name);
  if (id == names_.size()) names_.emplace_back(name);
  return id;
}

CounterId CounterCatalog::find(std::string_view name) const {
  const auto it = std::find(names_.begin(), names_.end(), name);
  return static_cast<CounterId>(it - names_.begin());
}

CounterName parse_counter_name(std::string_view name) {
  constexpr std::string_view kMiddle = "_conntrack_";
  const auto middle = name.find(kMiddle);
  if (middle == std::string_view::npos || middle == 0) return {};
  const auto rest = name.substr(middle + kMiddle.size());
  const auto sep = rest.find('_');
  if (sep == std::string_view::npos || sep == 0 || sep + 1 == rest.size()) return {};
  return CounterName{std::string(name.substr(0, middle)), std::string(rest.substr(0, sep)),
                     std::string(rest.substr(sep + 1)), true};
}

}  // namespace ctmon
