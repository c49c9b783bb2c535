// `trainyard serve`: the SageMaker API over HTTP for boto3 and the AWS CLI, on the same job
// store, scheduler and GPUs as `trainyard train`; and `trainyard credentials create`, which
// makes the access keys it checks signatures against.
#include <signal.h>

#include <iostream>
#include <nlohmann/json.hpp>
#include <thread>

#include "cli/commands/commands.h"
#include "cli/job_cli.h"
#include "core/error.h"
#include "server/api_server.h"
#include "server/credentials.h"
#include "server/job_dispatcher.h"

namespace trainyard::cli {
namespace {

struct ServeArguments {
  std::string listen = "127.0.0.1:8080";
  std::string data_dir;
  std::string credentials;
  size_t max_body_bytes = 1 << 20;
  int read_timeout_seconds = 10;
  size_t max_connections = 256;
  size_t max_running_jobs = 0;
  std::string tls_certificate;
  std::string tls_private_key;
};

bool is_loopback(const std::string& host) {
  return host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0;
}

std::pair<std::string, int> split_listen(const std::string& listen) {
  size_t colon = listen.rfind(':');
  int port = -1;
  if (colon != std::string::npos && colon + 1 < listen.size() &&
      listen.find_first_not_of("0123456789", colon + 1) == std::string::npos &&
      listen.size() - colon - 1 <= 5) {
    port = std::stoi(listen.substr(colon + 1));
  }
  if (colon == 0 || port < 0 || port > 65535) {
    throw ValueError("--listen must be HOST:PORT (port 0-65535), got '" + listen + "'");
  }
  return {listen.substr(0, colon), port};
}

void serve(const ServeArguments& arguments) {
  auto [host, port] = split_listen(arguments.listen);
  server::SecretLookup secrets;
  if (!arguments.credentials.empty()) {
    auto file = std::make_shared<server::CredentialsFile>(
        server::CredentialsFile::load(arguments.credentials));
    secrets = [file](const std::string& id) { return file->secret_for(id); };
  } else if (!is_loopback(host)) {
    throw ValueError("refusing to listen on " + host +
                     " without --credentials: anyone who can reach it could run jobs here "
                     "(create keys with `trainyard credentials create`)");
  }
  // SIGINT and SIGTERM end the server cleanly: they are taken by a waiting thread, so they
  // must be blocked before any other thread starts.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  JobCli cli(arguments.data_dir);
  server::JobDispatcher dispatcher(
      cli.service().store(), arguments.max_running_jobs,
      [&cli](const std::string& name) { cli.start_detached_supervisor(name); });
  // Jobs a killed server left behind: those whose program still runs are supervised again,
  // those that never started wait for a slot like new ones (reconcile finished the rest).
  for (const std::string& name : cli.service().reconcile()) {
    std::optional<jobs::JobRecord> record = cli.service().store().get(name);
    if (record && record->runner_process) {
      dispatcher.adopt(name);
    } else {
      dispatcher.enqueue(name);
    }
  }
  server::SageMakerApi api(cli.service(),
                           [&dispatcher](const std::string& name) { dispatcher.enqueue(name); });
  server::ApiServer http(api, secrets,
                         {.host = host,
                          .port = port,
                          .max_body_bytes = arguments.max_body_bytes,
                          .read_timeout = std::chrono::seconds(arguments.read_timeout_seconds),
                          .max_connections = arguments.max_connections,
                          .tls_certificate = arguments.tls_certificate,
                          .tls_private_key = arguments.tls_private_key});
  http.bind();
  const char* scheme = arguments.tls_certificate.empty() ? "http" : "https";
  std::cout << "trainyard: serving the SageMaker API on " << scheme << "://" << host << ":"
            << http.port() << " (data in " << cli.data_dir().string() << ", "
            << (secrets ? "SigV4 required" : "unauthenticated, loopback only") << ")" << std::endl;
  std::thread waiter([&http, stop_signals] {
    int received = 0;
    sigwait(&stop_signals, &received);
    http.stop();
  });
  http.serve();
  // serve() also returns when listening fails; wake the waiter so it can be joined.
  pthread_kill(waiter.native_handle(), SIGTERM);
  waiter.join();
}

}  // namespace

void add_serve_commands(CLI::App& app) {
  auto arguments = std::make_shared<ServeArguments>();
  CLI::App* serve_command =
      app.add_subcommand("serve", "Serve the SageMaker API (boto3, AWS CLI) over HTTP");
  serve_command->add_option("--listen", arguments->listen, "HOST:PORT (default 127.0.0.1:8080)");
  serve_command->add_option("--data-dir", arguments->data_dir, "Where jobs are kept");
  serve_command->add_option("--credentials", arguments->credentials,
                            "Credentials file: requests must be SigV4-signed with its keys");
  serve_command
      ->add_option("--max-body-bytes", arguments->max_body_bytes,
                   "Largest request body accepted (default 1 MiB)")
      ->check(CLI::Range(size_t{1024}, size_t{64} << 20));
  serve_command
      ->add_option("--read-timeout-seconds", arguments->read_timeout_seconds,
                   "Cut off a client that stalls mid-request this long (default 10)")
      ->check(CLI::Range(1, 3600));
  serve_command
      ->add_option("--max-connections", arguments->max_connections,
                   "Connections served at once, one thread each (default 256)")
      ->check(CLI::Range(size_t{1}, size_t{4096}));
  serve_command
      ->add_option("--max-running-jobs", arguments->max_running_jobs,
                   "Jobs started at once; later ones wait as Starting (default 0: no limit)")
      ->check(CLI::Range(size_t{0}, size_t{100000}));
  serve_command->add_option("--tls-certificate", arguments->tls_certificate,
                            "PEM certificate (chain): serve HTTPS");
  serve_command->add_option("--tls-key", arguments->tls_private_key,
                            "PEM private key of --tls-certificate");
  serve_command->callback([arguments] { serve(*arguments); });

  auto file = std::make_shared<std::string>();
  auto data_dir = std::make_shared<std::string>();
  CLI::App* credentials =
      app.add_subcommand("credentials", "Manage the access keys `trainyard serve` accepts");
  credentials->require_subcommand(1);
  CLI::App* create = credentials->add_subcommand("create", "Add a new access key and secret");
  create->add_option("--file", *file, "Credentials file (default <data dir>/credentials.json)");
  create->add_option("--data-dir", *data_dir, "trainyard's data directory");
  create->callback([file, data_dir] {
    std::filesystem::path path = file->empty() ? resolve_data_dir(*data_dir) / "credentials.json"
                                               : std::filesystem::path(*file);
    server::Credential credential = server::CredentialsFile::create(path);
    nlohmann::ordered_json out = {{"AccessKeyId", credential.access_key_id},
                                  {"SecretAccessKey", credential.secret_access_key},
                                  {"File", std::filesystem::absolute(path).string()}};
    std::cout << out.dump(2) << '\n';
  });
}

}  // namespace trainyard::cli
