#include "server/credentials.h"

#include <openssl/rand.h>
#include <sys/stat.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/error.h"
#include "jobs/staging/safe_files.h"

namespace trainyard::server {
namespace {

// `count` characters drawn uniformly from `alphabet` with OpenSSL's generator (rejection
// sampling, so no character is likelier than another).
std::string random_text(std::string_view alphabet, size_t count) {
  std::string text;
  const unsigned limit = 256 - 256 % static_cast<unsigned>(alphabet.size());
  while (text.size() < count) {
    unsigned char bytes[64];
    if (RAND_bytes(bytes, sizeof bytes) != 1) throw IOError("OpenSSL's random generator failed");
    for (unsigned char byte : bytes) {
      if (byte < limit && text.size() < count) text += alphabet[byte % alphabet.size()];
    }
  }
  return text;
}

nlohmann::json read_json(const std::filesystem::path& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) throw IOError("cannot read the credentials file " + path.string());
  std::stringstream text;
  text << file.rdbuf();
  nlohmann::json json = nlohmann::json::parse(text.str(), nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded() || !json.is_object() || !json.contains("credentials") ||
      !json["credentials"].is_array()) {
    throw DataError("credentials file " + path.string() +
                    " is not {\"credentials\": [{\"access_key_id\": ..., "
                    "\"secret_access_key\": ...}, ...]}");
  }
  return json;
}

}  // namespace

CredentialsFile CredentialsFile::load(const std::filesystem::path& path) {
  struct stat status {};
  if (::stat(path.c_str(), &status) != 0) {
    throw IOError("cannot read the credentials file " + path.string() +
                  " (create one with `trainyard credentials create --file " + path.string() + "`)");
  }
  if ((status.st_mode & 077) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(status.st_mode & 07777));
    throw IOError("credentials file " + path.string() + " may be read by others (mode " + mode +
                  "); run chmod 600 " + path.string());
  }
  CredentialsFile file;
  const nlohmann::json json = read_json(path);
  for (size_t i = 0; i < json["credentials"].size(); ++i) {
    const nlohmann::json& entry = json["credentials"][i];
    auto text = [&](const char* key) -> std::string {
      if (!entry.is_object() || !entry.contains(key) || !entry[key].is_string() ||
          entry[key].get<std::string>().empty()) {
        throw DataError("credentials file " + path.string() + ": entry " + std::to_string(i) +
                        " has no " + key + " string");
      }
      return entry[key].get<std::string>();
    };
    file.secrets_[text("access_key_id")] = text("secret_access_key");
  }
  return file;
}

Credential CredentialsFile::create(const std::filesystem::path& path) {
  nlohmann::json json = {{"credentials", nlohmann::json::array()}};
  if (std::filesystem::exists(path)) {
    load(path);  // refuses a malformed or readable file before it is rewritten
    json = read_json(path);
  }
  Credential credential{
      .access_key_id = "TYAK" + random_text("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", 16),
      .secret_access_key =
          random_text("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/", 40)};
  json["credentials"].push_back({{"access_key_id", credential.access_key_id},
                                 {"secret_access_key", credential.secret_access_key}});
  if (!path.parent_path().empty()) std::filesystem::create_directories(path.parent_path());
  jobs::detail::write_file_atomically(path, json.dump(2) + "\n", 0600);
  return credential;
}

std::optional<std::string> CredentialsFile::secret_for(const std::string& access_key_id) const {
  auto it = secrets_.find(access_key_id);
  if (it == secrets_.end()) return std::nullopt;
  return it->second;
}

}  // namespace trainyard::server
