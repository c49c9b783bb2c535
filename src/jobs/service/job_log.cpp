#include "jobs/service/job_log.h"

#include <ctime>
#include <deque>
#include <fstream>

namespace trainyard::jobs {
namespace {

// Only the end of a long log is read for last_lines.
constexpr std::streamoff kTailBytes = 64 * 1024;

}  // namespace

JobLog::JobLog(std::filesystem::path path) : path_(std::move(path)), follower_(path_) {}

void JobLog::append_line(const std::string& line) {
  std::ofstream file(path_, std::ios::app | std::ios::binary);
  if (file) file << line << '\n';
}

void JobLog::append_status(double time, SecondaryStatus status, const std::string& message) {
  std::time_t seconds = static_cast<std::time_t>(time);
  std::tm local{};
  ::localtime_r(&seconds, &local);
  char stamp[32];
  std::strftime(stamp, sizeof(stamp), "%Y-%m-%d %H:%M:%S", &local);
  append_line("[trainyard] " + std::string(stamp) + " " + std::string(to_string(status)) + " - " +
              message);
}

void JobLog::read_new(const std::function<void(std::string_view)>& on_bytes,
                      const std::function<void(const std::string&)>& on_line) {
  for (;;) {
    LogChunk chunk = follower_.read();
    if (chunk.bytes.empty()) return;
    if (on_bytes) on_bytes(chunk.bytes);
    if (on_line) {
      for (const std::string& line : chunk.lines) on_line(line);
    }
  }
}

std::string JobLog::last_lines(size_t count) const {
  std::ifstream file(path_, std::ios::binary);
  if (!file) return "";
  file.seekg(0, std::ios::end);
  std::streamoff size = file.tellg();
  file.seekg(std::max<std::streamoff>(0, size - kTailBytes));
  std::deque<std::string> lines;
  std::string line;
  while (std::getline(file, line)) {
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
    // Keep the text after the last carriage return: a progress bar's final state.
    if (auto cr = line.rfind('\r'); cr != std::string::npos) line = line.substr(cr + 1);
    if (line.empty() || line.rfind("[trainyard]", 0) == 0) continue;
    lines.push_back(line);
    if (lines.size() > count) lines.pop_front();
  }
  std::string joined;
  for (const std::string& kept : lines) joined += (joined.empty() ? "" : "; ") + kept;
  return joined;
}

}  // namespace trainyard::jobs
