#include "monitor/daemon/status_file.h"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

namespace ctmon {

std::string write_status_file(const std::string& path, const nlohmann::json& content) {
  const std::filesystem::path target(path);
  std::error_code error;
  if (target.has_parent_path()) std::filesystem::create_directories(target.parent_path(), error);
  const std::string temporary = path + ".tmp";
  {
    std::ofstream out(temporary, std::ios::trunc);
    out << content.dump() << '\n';
    if (!out) return std::string("cannot write ") + temporary + ": " + std::strerror(errno);
  }
  if (std::rename(temporary.c_str(), path.c_str()) != 0)
    return std::string("cannot replace ") + path + ": " + std::strerror(errno);
  return {};
}

}  // namespace ctmon
