// Fuzzes SigV4 verification with hostile requests: the input's first line is the
// Authorization header, the lines up to a blank line are "name: value" headers, the rest is
// the body. verify_sigv4 must refuse or accept, never throw, crash or read out of bounds.
#include <cstdlib>
#include <string>

#include "fuzz_target.h"
#include "server/sigv4.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace trainyard::server;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  HttpRequestView request;
  size_t end = text.find('\n');
  request.headers.emplace("authorization", std::string(text.substr(0, end)));
  while (end != std::string_view::npos) {
    text.remove_prefix(end + 1);
    end = text.find('\n');
    std::string_view line = text.substr(0, end);
    if (line.empty()) break;
    size_t colon = line.find(':');
    request.headers.emplace(
        std::string(line.substr(0, colon)),
        colon == std::string_view::npos ? "" : std::string(line.substr(colon + 1)));
  }
  request.body = end == std::string_view::npos ? "" : std::string(text.substr(end + 1));
  const auto secrets = [](const std::string& id) -> std::optional<std::string> {
    if (id.size() % 2 == 0) return "secret-" + id;
    return std::nullopt;
  };
  try {
    AuthResult result =
        verify_sigv4(request, secrets, std::chrono::system_clock::from_time_t(1795720292));
    if (!result.ok() && (!result.failure || result.failure->code.empty())) std::abort();
  } catch (...) {
    std::abort();  // a client's bytes must never throw out of the verifier
  }
  return 0;
}
