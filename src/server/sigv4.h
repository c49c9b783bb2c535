// AWS Signature Version 4 as the SageMaker API server checks it: the Authorization header
// parsed, the signing key derived from the caller's secret, the canonical request rebuilt
// from what arrived, and the signatures compared in constant time. Failures carry the error
// code AWS returns for them (sagemaker-contract.md section 1.5).
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace trainyard::server {

// A request as received: header names lower-cased, repeated headers in arrival order.
struct HttpRequestView {
  std::string method = "POST";
  std::string path = "/";
  std::string query;  // without the '?'
  std::multimap<std::string, std::string> headers;
  std::string body;

  // The values of header `name` (lower case), joined with ',' as SigV4 joins repeats;
  // empty when absent.
  std::optional<std::string> header(std::string_view name) const;
};

// The parts of `Authorization: AWS4-HMAC-SHA256 Credential=..., SignedHeaders=...,
// Signature=...`.
struct SigV4Authorization {
  std::string access_key_id;
  std::string date;  // YYYYMMDD of the credential scope
  std::string region;
  std::string service;
  std::vector<std::string> signed_headers;  // lower case, as listed
  std::string signature;                    // 64 lower-case hex digits
};

// Why a request was refused, in AWS's terms.
struct AuthFailure {
  std::string code;  // "InvalidSignatureException", ...
  std::string message;
};

struct SigV4Options {
  std::string service = "sagemaker";
  std::chrono::seconds allowed_skew{15 * 60};
};

// The secret access key of an access key id, or nothing for an unknown id.
using SecretLookup = std::function<std::optional<std::string>(const std::string& access_key_id)>;

// The verified caller's access key id, or the failure.
struct AuthResult {
  std::optional<std::string> access_key_id;
  std::optional<AuthFailure> failure;
  bool ok() const { return access_key_id.has_value(); }
};

// Checks `request`'s signature at time `now`. Never throws for anything a client sent.
AuthResult verify_sigv4(const HttpRequestView& request, const SecretLookup& secrets,
                        std::chrono::system_clock::time_point now,
                        const SigV4Options& options = {});

// Parses an Authorization header value; a failure names what is missing or malformed.
std::variant<SigV4Authorization, AuthFailure> parse_authorization(std::string_view value);

// The signature a client computes for `request` with `secret` (the same canonical form the
// verifier rebuilds), for trainyard's own clients and for tests.
std::string sigv4_signature(const HttpRequestView& request, const SigV4Authorization& scope,
                            const std::string& amz_date, const std::string& secret);

// Lower-case hex of SHA-256(data); exposed for the payload hash and tests.
std::string sha256_hex(std::string_view data);

}  // namespace trainyard::server
