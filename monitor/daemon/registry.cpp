#include "monitor/daemon/registry.h"

#include "monitor/conntrack/conntrack_health_input.h"
#include "monitor/daemon/counter_input.h"
#include "monitor/influx/influx_output.h"
#include "monitor/mqtt/mqtt_output.h"
#include "monitor/notify/exec_hook.h"
#include "monitor/notify/webhook.h"
#include "monitor/probe/probe_input.h"
#include "monitor/prometheus/prometheus_output.h"

namespace ctmon {
namespace {

template <class Part, class Made>
void add(std::vector<std::unique_ptr<Part>>& parts, std::unique_ptr<Made> part) {
  if (part) parts.push_back(std::move(part));
}

}  // namespace

io::LogSink log_sink(Logger& log) {
  return [&log](io::Severity severity, const std::string& line) {
    if (severity == io::Severity::kError)
      log.error("{}", line);
    else if (severity == io::Severity::kWarning)
      log.warning("{}", line);
    else
      log.info("{}", line);
  };
}

std::vector<std::unique_ptr<io::Input>> make_inputs(const Config& config, Logger& log,
                                                    std::int64_t now_mono_ns) {
  std::vector<std::unique_ptr<io::Input>> inputs;
  add(inputs, std::make_unique<CounterInput>(config, log, now_mono_ns));
  add(inputs, conntrack::make_input(config, log_sink(log)));
  add(inputs, probe::make_probe_input(config, log_sink(log), now_mono_ns));
  return inputs;
}

std::vector<std::unique_ptr<io::Output>> make_outputs(const Config& config, store::Database& db,
                                                      Logger& log, const StatusSource& status) {
  std::vector<std::unique_ptr<io::Output>> outputs;
  add(outputs, influx::make_output(config, db, log_sink(log)));
  add(outputs, notify::make_exec_output(config, log_sink(log)));
  add(outputs, mqtt::make_output(config, log_sink(log)));
  add(outputs, prometheus::make_output(config, status, log_sink(log)));
  add(outputs, notify::make_webhook_output(config, db, log_sink(log)));
  return outputs;
}

}  // namespace ctmon
