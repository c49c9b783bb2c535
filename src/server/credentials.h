// The server's credentials file: access key ids and their secret keys, as `trainyard
// credentials create` writes them (JSON, mode 0600) and `trainyard serve --credentials`
// reads them. A file others can read is refused, as ssh refuses a readable private key.
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <string>

namespace trainyard::server {

struct Credential {
  std::string access_key_id;      // "TYAK" and 16 upper-case letters and digits
  std::string secret_access_key;  // 40 characters of [A-Za-z0-9+/]
};

class CredentialsFile {
 public:
  // Reads `path`. Throws IOError when it cannot be read or others may read it, DataError
  // naming the file and the entry when it is malformed.
  static CredentialsFile load(const std::filesystem::path& path);

  // Adds a fresh credential to `path` (creating it, mode 0600, atomically) and returns it.
  static Credential create(const std::filesystem::path& path);

  std::optional<std::string> secret_for(const std::string& access_key_id) const;
  size_t size() const { return secrets_.size(); }

 private:
  std::map<std::string, std::string> secrets_;
};

}  // namespace trainyard::server
