#include "server/sigv4.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <cctype>
#include <ctime>

namespace trainyard::server {
namespace {

constexpr std::string_view kAlgorithm = "AWS4-HMAC-SHA256";

std::string hex(const unsigned char* bytes, size_t size) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string text(size * 2, '0');
  for (size_t i = 0; i < size; ++i) {
    text[2 * i] = kDigits[bytes[i] >> 4];
    text[2 * i + 1] = kDigits[bytes[i] & 15];
  }
  return text;
}

std::string hmac_sha256(std::string_view key, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), out, &size);
  return std::string(reinterpret_cast<const char*>(out), size);
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) {
    text.remove_prefix(1);
  }
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) {
    text.remove_suffix(1);
  }
  return text;
}

// SigV4's header value form: trimmed, inner runs of spaces collapsed to one.
std::string canonical_value(std::string_view value) {
  std::string out;
  bool in_space = false;
  for (char c : trim(value)) {
    if (c == ' ' || c == '\t') {
      in_space = true;
      continue;
    }
    if (in_space) out += ' ';
    in_space = false;
    out += c;
  }
  return out;
}

std::vector<std::string_view> split(std::string_view text, char separator) {
  std::vector<std::string_view> parts;
  while (true) {
    size_t at = text.find(separator);
    parts.push_back(text.substr(0, at));
    if (at == std::string_view::npos) return parts;
    text.remove_prefix(at + 1);
  }
}

std::string canonical_query(std::string_view query) {
  if (query.empty()) return "";
  std::vector<std::string> pairs;
  for (std::string_view pair : split(query, '&')) {
    std::string text(pair);
    if (text.find('=') == std::string::npos) text += '=';
    pairs.push_back(std::move(text));
  }
  std::sort(pairs.begin(), pairs.end());
  std::string out;
  for (const std::string& pair : pairs) out += (out.empty() ? "" : "&") + pair;
  return out;
}

std::string canonical_request(const HttpRequestView& request,
                              const std::vector<std::string>& signed_headers) {
  std::vector<std::string> names = signed_headers;
  std::sort(names.begin(), names.end());
  std::string text =
      request.method + "\n" + request.path + "\n" + canonical_query(request.query) + "\n";
  std::string list;
  for (const std::string& name : names) {
    std::string value;
    auto [first, last] = request.headers.equal_range(name);
    for (auto it = first; it != last; ++it) {
      value += (it == first ? "" : ",") + canonical_value(it->second);
    }
    text += name + ":" + value + "\n";
    list += (list.empty() ? "" : ";") + name;
  }
  return text + "\n" + list + "\n" + sha256_hex(request.body);
}

AuthFailure incomplete(std::string message) {
  return {"IncompleteSignatureException", std::move(message)};
}
AuthFailure invalid(std::string message) {
  return {"InvalidSignatureException", std::move(message)};
}

// Seconds since the epoch of an ISO-8601 basic timestamp "YYYYMMDDTHHMMSSZ".
std::optional<std::time_t> parse_amz_date(const std::string& text) {
  if (text.size() != 16 || text[8] != 'T' || text[15] != 'Z') return std::nullopt;
  for (size_t i : {0, 1, 2, 3, 4, 5, 6, 7, 9, 10, 11, 12, 13, 14}) {
    if (!std::isdigit(static_cast<unsigned char>(text[i]))) return std::nullopt;
  }
  std::tm parts{};
  parts.tm_year = std::stoi(text.substr(0, 4)) - 1900;
  parts.tm_mon = std::stoi(text.substr(4, 2)) - 1;
  parts.tm_mday = std::stoi(text.substr(6, 2));
  parts.tm_hour = std::stoi(text.substr(9, 2));
  parts.tm_min = std::stoi(text.substr(11, 2));
  parts.tm_sec = std::stoi(text.substr(13, 2));
  if (parts.tm_mon > 11 || parts.tm_mday < 1 || parts.tm_mday > 31 || parts.tm_hour > 23 ||
      parts.tm_min > 59 || parts.tm_sec > 60) {
    return std::nullopt;
  }
  return timegm(&parts);
}

std::string format_amz_date(std::time_t seconds) {
  std::tm parts{};
  gmtime_r(&seconds, &parts);
  char text[32];
  std::strftime(text, sizeof text, "%Y%m%dT%H%M%SZ", &parts);
  return text;
}

std::optional<AuthFailure> check_time(const std::string& amz_date, const SigV4Authorization& scope,
                                      std::chrono::system_clock::time_point now,
                                      std::chrono::seconds skew) {
  std::optional<std::time_t> signed_at = parse_amz_date(amz_date);
  if (!signed_at) {
    return incomplete("X-Amz-Date '" + amz_date +
                      "' is not an ISO-8601 basic timestamp "
                      "(YYYYMMDDTHHMMSSZ)");
  }
  if (scope.date != amz_date.substr(0, 8)) {
    return invalid(
        "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of "
        "date from HTTP: '" +
        scope.date + "' != '" + amz_date.substr(0, 8) + "', from '" + amz_date + "'.");
  }
  const std::time_t current = std::chrono::system_clock::to_time_t(now);
  const std::string minutes = std::to_string(skew.count() / 60) + " min.)";
  if (*signed_at < current - skew.count()) {
    return invalid("Signature expired: " + amz_date + " is now earlier than " +
                   format_amz_date(current - skew.count()) + " (" + format_amz_date(current) +
                   " - " + minutes);
  }
  if (*signed_at > current + skew.count()) {
    return invalid("Signature not yet current: " + amz_date + " is still later than " +
                   format_amz_date(current + skew.count()) + " (" + format_amz_date(current) +
                   " + " + minutes);
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::string> HttpRequestView::header(std::string_view name) const {
  auto [first, last] = headers.equal_range(std::string(name));
  if (first == last) return std::nullopt;
  std::string value;
  for (auto it = first; it != last; ++it) value += (it == first ? "" : ",") + it->second;
  return value;
}

std::string sha256_hex(std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  EVP_Digest(data.data(), data.size(), digest, &size, EVP_sha256(), nullptr);
  return hex(digest, size);
}

std::variant<SigV4Authorization, AuthFailure> parse_authorization(std::string_view value) {
  value = trim(value);
  if (value.substr(0, kAlgorithm.size()) != kAlgorithm ||
      (value.size() > kAlgorithm.size() && value[kAlgorithm.size()] != ' ')) {
    return incomplete("Authorization header's algorithm must be AWS4-HMAC-SHA256, got '" +
                      std::string(value.substr(0, value.find(' '))) + "'");
  }
  std::optional<std::string> credential, signed_headers, signature;
  for (std::string_view part : split(value.substr(kAlgorithm.size()), ',')) {
    part = trim(part);
    size_t equals = part.find('=');
    if (equals == std::string_view::npos) continue;
    std::string_view key = part.substr(0, equals);
    std::string item(trim(part.substr(equals + 1)));
    if (key == "Credential") credential = item;
    if (key == "SignedHeaders") signed_headers = item;
    if (key == "Signature") signature = item;
  }
  std::string missing;
  if (!credential) missing += "Authorization header requires 'Credential' parameter. ";
  if (!signature) missing += "Authorization header requires 'Signature' parameter. ";
  if (!signed_headers) missing += "Authorization header requires 'SignedHeaders' parameter. ";
  if (!missing.empty()) return incomplete(missing + "Authorization=" + std::string(value));

  std::vector<std::string_view> scope = split(*credential, '/');
  if (scope.size() != 5 || scope[0].empty() || scope[1].size() != 8 || scope[2].empty() ||
      scope[4] != "aws4_request") {
    return incomplete("Credential '" + *credential +
                      "' is not <access key id>/<YYYYMMDD>/<region>/<service>/aws4_request");
  }
  const bool hex_signature =
      signature->size() == 64 && std::all_of(signature->begin(), signature->end(), [](char c) {
        return std::isdigit(static_cast<unsigned char>(c)) || (c >= 'a' && c <= 'f');
      });
  if (!hex_signature) {
    return incomplete("Signature must be 64 lower-case hexadecimal digits");
  }
  SigV4Authorization parsed{.access_key_id = std::string(scope[0]),
                            .date = std::string(scope[1]),
                            .region = std::string(scope[2]),
                            .service = std::string(scope[3]),
                            .signature = *signature};
  for (std::string_view name : split(*signed_headers, ';')) {
    std::string lower(name);
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (lower.empty()) return incomplete("SignedHeaders has an empty entry: " + *signed_headers);
    parsed.signed_headers.push_back(std::move(lower));
  }
  return parsed;
}

std::string sigv4_signature(const HttpRequestView& request, const SigV4Authorization& scope,
                            const std::string& amz_date, const std::string& secret) {
  const std::string credential_scope =
      scope.date + "/" + scope.region + "/" + scope.service + "/aws4_request";
  const std::string string_to_sign = std::string(kAlgorithm) + "\n" + amz_date + "\n" +
                                     credential_scope + "\n" +
                                     sha256_hex(canonical_request(request, scope.signed_headers));
  std::string key = hmac_sha256("AWS4" + secret, scope.date);
  key = hmac_sha256(key, scope.region);
  key = hmac_sha256(key, scope.service);
  key = hmac_sha256(key, "aws4_request");
  std::string signature = hmac_sha256(key, string_to_sign);
  return hex(reinterpret_cast<const unsigned char*>(signature.data()), signature.size());
}

AuthResult verify_sigv4(const HttpRequestView& request, const SecretLookup& secrets,
                        std::chrono::system_clock::time_point now, const SigV4Options& options) {
  auto fail = [](AuthFailure failure) { return AuthResult{.failure = std::move(failure)}; };
  std::optional<std::string> header = request.header("authorization");
  if (!header) {
    return fail({"MissingAuthenticationTokenException", "Missing Authentication Token"});
  }
  auto parsed = parse_authorization(*header);
  if (auto* failure = std::get_if<AuthFailure>(&parsed)) return fail(std::move(*failure));
  const SigV4Authorization& scope = std::get<SigV4Authorization>(parsed);

  std::optional<std::string> secret = secrets(scope.access_key_id);
  if (!secret) {
    return fail(
        {"UnrecognizedClientException", "The security token included in the request is invalid."});
  }
  if (scope.service != options.service) {
    return fail(
        invalid("Credential should be scoped to correct service: '" + options.service + "'. "));
  }
  const auto& names = scope.signed_headers;
  if (std::find(names.begin(), names.end(), "host") == names.end()) {
    return fail(
        incomplete("'Host' or ':authority' must be a 'SignedHeader' in the AWS "
                   "Authorization."));
  }
  std::optional<std::string> amz_date = request.header("x-amz-date");
  if (!amz_date) {
    return fail(
        incomplete("Authorization header requires existence of either a 'X-Amz-Date' "
                   "or a 'Date' header."));
  }
  if (std::find(names.begin(), names.end(), "x-amz-date") == names.end()) {
    return fail(incomplete("'X-Amz-Date' must be a 'SignedHeader' in the AWS Authorization."));
  }
  if (auto failure = check_time(*amz_date, scope, now, options.allowed_skew)) {
    return fail(std::move(*failure));
  }
  if (auto declared = request.header("x-amz-content-sha256");
      declared && *declared != "UNSIGNED-PAYLOAD" && *declared != sha256_hex(request.body)) {
    return fail(
        invalid("The provided 'x-amz-content-sha256' header does not match what was "
                "computed."));
  }
  const std::string expected = sigv4_signature(request, scope, *amz_date, *secret);
  if (CRYPTO_memcmp(expected.data(), scope.signature.data(), expected.size()) != 0) {
    return fail(
        invalid("The request signature we calculated does not match the signature you "
                "provided. Check your AWS Secret Access Key and signing method. Consult "
                "the service documentation for details."));
  }
  return {.access_key_id = scope.access_key_id};
}

}  // namespace trainyard::server
