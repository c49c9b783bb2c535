#include "server/sigv4.h"

#include <gtest/gtest.h>

namespace trainyard::server {
namespace {

using std::chrono::seconds;
using std::chrono::system_clock;

constexpr const char* kAccessKey = "AKIDTRAINYARDEXAMPLE";
constexpr const char* kSecret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

// A DescribeTrainingJob request as botocore 1.x signed it (SigV4Auth, region us-east-1,
// service sagemaker) for http://127.0.0.1:8080/ at 2026-11-26T19:11:32Z: the reference
// signature comes from the SDK, not from trainyard's code.
HttpRequestView botocore_request() {
  HttpRequestView request;
  request.body = R"({"TrainingJobName": "fashion-mnist-1"})";
  request.headers = {
      {"host", "127.0.0.1:8080"},
      {"x-amz-target", "SageMaker.DescribeTrainingJob"},
      {"content-type", "application/x-amz-json-1.1"},
      {"x-amz-date", "20261126T191132Z"},
      {"authorization",
       "AWS4-HMAC-SHA256 Credential=AKIDTRAINYARDEXAMPLE/20261126/us-east-1/sagemaker/"
       "aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-target, "
       "Signature=b29133a858643786a7725c265e925d1b4efea99ff857db121c6a7e15dda5aeb4"},
      {"user-agent", "Boto3/1.x"},  // not signed: may be anything
  };
  return request;
}

system_clock::time_point signing_time() {
  return system_clock::from_time_t(1795720292);  // 2026-11-26T19:11:32Z
}

std::optional<std::string> known_secret(const std::string& access_key) {
  if (access_key == kAccessKey) return std::string(kSecret);
  return std::nullopt;
}

AuthResult verify(const HttpRequestView& request, system_clock::time_point now = signing_time()) {
  return verify_sigv4(request, known_secret, now);
}

void replace_header(HttpRequestView& request, const std::string& name, const std::string& value) {
  request.headers.erase(name);
  request.headers.emplace(name, value);
}

std::string code_of(const AuthResult& result) {
  return result.failure ? result.failure->code : std::string("accepted");
}

TEST(SigV4Test, AcceptsWhatBotocoreSigned) {
  AuthResult result = verify(botocore_request());
  ASSERT_TRUE(result.ok()) << result.failure->code << ": " << result.failure->message;
  EXPECT_EQ(*result.access_key_id, kAccessKey);
}

TEST(SigV4Test, ATamperedBodyOrSignedHeaderIsRejected) {
  HttpRequestView request = botocore_request();
  request.body = R"({"TrainingJobName": "fashion-mnist-2"})";
  AuthResult result = verify(request);
  EXPECT_EQ(code_of(result), "InvalidSignatureException");
  EXPECT_NE(result.failure->message.find("does not match the signature you provided"),
            std::string::npos);

  request = botocore_request();
  replace_header(request, "x-amz-target", "SageMaker.StopTrainingJob");
  EXPECT_EQ(code_of(verify(request)), "InvalidSignatureException");

  request = botocore_request();
  replace_header(request, "host", "127.0.0.1:8081");
  EXPECT_EQ(code_of(verify(request)), "InvalidSignatureException");
}

TEST(SigV4Test, UnsignedHeadersAndWhitespaceDoNotMatter) {
  HttpRequestView request = botocore_request();
  replace_header(request, "user-agent", "something else");
  request.headers.emplace("amz-sdk-request", "attempt=2");
  replace_header(request, "content-type", "  application/x-amz-json-1.1  ");
  EXPECT_TRUE(verify(request).ok());
}

TEST(SigV4Test, AWrongSecretIsAnInvalidSignature) {
  AuthResult result = verify_sigv4(
      botocore_request(), [](const std::string&) { return std::string("not-the-secret"); },
      signing_time());
  EXPECT_EQ(code_of(result), "InvalidSignatureException");
}

TEST(SigV4Test, AnUnknownAccessKeyIsUnrecognized) {
  AuthResult result = verify_sigv4(
      botocore_request(), [](const std::string&) { return std::optional<std::string>(); },
      signing_time());
  EXPECT_EQ(code_of(result), "UnrecognizedClientException");
  EXPECT_EQ(result.failure->message, "The security token included in the request is invalid.");
}

TEST(SigV4Test, AMissingAuthorizationHeaderIsAMissingToken) {
  HttpRequestView request = botocore_request();
  request.headers.erase("authorization");
  EXPECT_EQ(code_of(verify(request)), "MissingAuthenticationTokenException");
}

TEST(SigV4Test, MalformedAuthorizationHeadersAreIncomplete) {
  const std::string valid_scope =
      "Credential=AKIDTRAINYARDEXAMPLE/20261126/us-east-1/sagemaker/aws4_request";
  const std::string signature =
      "Signature=b29133a858643786a7725c265e925d1b4efea99ff857db121c6a7e15dda5aeb4";
  for (const std::string& value : {
           std::string("AWS4-HMAC-SHA1 ") + valid_scope,
           std::string("Basic dXNlcjpwYXNz"),
           "AWS4-HMAC-SHA256 " + valid_scope + ", " + signature,
           "AWS4-HMAC-SHA256 SignedHeaders=host;x-amz-date, " + signature,
           "AWS4-HMAC-SHA256 " + valid_scope + ", SignedHeaders=host;x-amz-date",
           "AWS4-HMAC-SHA256 Credential=AKID/2026/us-east-1/sagemaker/aws4_request, "
           "SignedHeaders=host;x-amz-date, " +
               signature,
           "AWS4-HMAC-SHA256 " + valid_scope + ", SignedHeaders=host;x-amz-date, Signature=xyz",
           std::string(""),
       }) {
    HttpRequestView request = botocore_request();
    replace_header(request, "authorization", value);
    EXPECT_EQ(code_of(verify(request)), "IncompleteSignatureException") << value;
  }
  auto parsed = parse_authorization("AWS4-HMAC-SHA256 " + valid_scope);
  ASSERT_TRUE(std::holds_alternative<AuthFailure>(parsed));
  EXPECT_NE(std::get<AuthFailure>(parsed).message.find("requires 'Signature' parameter"),
            std::string::npos);
}

TEST(SigV4Test, ClockSkewBeyondFifteenMinutesIsRejectedBothWays) {
  AuthResult late = verify(botocore_request(), signing_time() + seconds(15 * 60 + 1));
  EXPECT_EQ(code_of(late), "InvalidSignatureException");
  EXPECT_EQ(late.failure->message,
            "Signature expired: 20261126T191132Z is now earlier than 20261126T191133Z "
            "(20261126T192633Z - 15 min.)");
  AuthResult early = verify(botocore_request(), signing_time() - seconds(15 * 60 + 1));
  EXPECT_EQ(code_of(early), "InvalidSignatureException");
  EXPECT_NE(early.failure->message.find("Signature not yet current"), std::string::npos);

  EXPECT_TRUE(verify(botocore_request(), signing_time() + seconds(15 * 60)).ok());
  EXPECT_TRUE(verify(botocore_request(), signing_time() - seconds(15 * 60)).ok());
}

TEST(SigV4Test, TheDateMustBeSignedWellFormedAndMatchTheScope) {
  HttpRequestView request = botocore_request();
  request.headers.erase("x-amz-date");
  EXPECT_EQ(code_of(verify(request)), "IncompleteSignatureException");

  request = botocore_request();
  replace_header(request, "x-amz-date", "2026-11-26T19:11:32Z");
  EXPECT_EQ(code_of(verify(request)), "IncompleteSignatureException");

  request = botocore_request();
  replace_header(request, "x-amz-date", "20261127T191132Z");
  AuthResult result = verify(request, signing_time() + seconds(86400));
  EXPECT_EQ(code_of(result), "InvalidSignatureException");
  EXPECT_NE(result.failure->message.find("Date in Credential scope does not match"),
            std::string::npos);
}

TEST(SigV4Test, AnotherServiceScopeOrAnUnsignedHostIsRefused) {
  HttpRequestView request = botocore_request();
  std::string value = *request.header("authorization");
  value.replace(value.find("/sagemaker/"), 11, "/s3/");
  replace_header(request, "authorization", value);
  EXPECT_EQ(code_of(verify(request)), "InvalidSignatureException");

  request = botocore_request();
  value = *request.header("authorization");
  value.replace(value.find("content-type;host;"), 18, "content-type;");
  replace_header(request, "authorization", value);
  EXPECT_EQ(code_of(verify(request)), "IncompleteSignatureException");
}

TEST(SigV4Test, ADeclaredPayloadHashMustMatchTheBody) {
  HttpRequestView request = botocore_request();
  request.headers.emplace("x-amz-content-sha256", sha256_hex("something else"));
  EXPECT_EQ(code_of(verify(request)), "InvalidSignatureException");
}

TEST(SigV4Test, SigningAndVerifyingAgreeForAnyRequest) {
  HttpRequestView request;
  request.query = "b=2&a=1";
  request.body = "{}";
  request.headers = {{"host", "localhost:9"},
                     {"x-amz-date", "20261126T191132Z"},
                     {"x-amz-target", "SageMaker.ListTrainingJobs"}};
  SigV4Authorization scope{.access_key_id = kAccessKey,
                           .date = "20261126",
                           .region = "eu-west-1",
                           .service = "sagemaker",
                           .signed_headers = {"host", "x-amz-date", "x-amz-target"}};
  std::string signature = sigv4_signature(request, scope, "20261126T191132Z", kSecret);
  request.headers.emplace("authorization",
                          "AWS4-HMAC-SHA256 Credential=" + std::string(kAccessKey) +
                              "/20261126/eu-west-1/sagemaker/aws4_request, "
                              "SignedHeaders=host;x-amz-date;x-amz-target, Signature=" +
                              signature);
  EXPECT_TRUE(verify(request).ok());
  EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

}  // namespace
}  // namespace trainyard::server
