// libFuzzer target: the TOML config loader over hostile files. A file must load or give a
// UserError; a file that loads and validates must print (config_to_toml, what `ctmon config
// check` shows) as TOML that loads back to the same configuration.
#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "monitor/config/config.h"
#include "monitor/user_error.h"

namespace {

// load_config_file reads a path, so every input goes through one file in RAM (a file on disk
// costs a writeback per input: ext4 flushes a file truncated and rewritten).
int memory_fd = -1;
std::string temp_path;

void write_file(const char* data, std::size_t size) {
  if (ftruncate(memory_fd, 0) != 0) __builtin_trap();
  if (size > 0 && pwrite(memory_fd, data, size, 0) != static_cast<ssize_t>(size)) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  memory_fd = memfd_create("ctmon-config-fuzz", 0);
  if (memory_fd < 0) __builtin_trap();
  temp_path = "/proc/self/fd/" + std::to_string(memory_fd);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  write_file(reinterpret_cast<const char*>(data), size);
  ctmon::Config config;
  try {
    ctmon::load_config_file(config, temp_path, true);
    ctmon::validate_config(config);
  } catch (const ctmon::UserError&) {
    return 0;
  }
  const std::string printed = ctmon::config_to_toml(config);
  write_file(printed.data(), printed.size());
  ctmon::Config again;
  try {
    ctmon::load_config_file(again, temp_path, true);
  } catch (const ctmon::UserError&) {
    __builtin_trap();  // what config check prints must load
  }
  if (ctmon::config_to_toml(again) != printed) __builtin_trap();
  return 0;
}
