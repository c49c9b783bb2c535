// The trainyard command: a thin dispatcher over the subcommands in commands/.
#include <csignal>
#include <iostream>

#include "cli/commands/commands.h"
#include "core/error.h"

int main(int argc, char** argv) {
  // A job's supervisor must outlive a closed pipe (`trainyard train job.json | head`): with
  // SIGPIPE ignored a failed write is just a failed write.
  std::signal(SIGPIPE, SIG_IGN);
  CLI::App app{"trainyard: run SageMaker-style training jobs on machines you own"};
  app.set_version_flag("--version", std::string("trainyard ") + TRAINYARD_VERSION);
  // No require_subcommand(): with it CLI11 answers a misspelt subcommand with "A subcommand
  // is required" instead of naming the word it did not expect.

  trainyard::cli::add_instances_command(app);
  trainyard::cli::add_gpus_command(app);
  trainyard::cli::add_doctor_command(app);
  trainyard::cli::add_advise_command(app);
  trainyard::cli::add_train_command(app);
  trainyard::cli::add_job_query_commands(app);
  trainyard::cli::add_model_commands(app);
  trainyard::cli::add_serve_commands(app);
  trainyard::cli::add_internal_commands(app);

  try {
    app.parse(argc, argv);
    if (app.get_subcommands().empty()) {
      std::cerr << app.help();
      return 1;
    }
  } catch (const CLI::ParseError& error) {
    return app.exit(error);  // usage errors, --help and --version, worded by CLI11
  } catch (const trainyard::Error& error) {
    std::cerr << "trainyard: error: " << error.what() << '\n';
    return 1;
  } catch (const std::exception& error) {
    std::cerr << "trainyard: internal error: " << error.what() << '\n';
    return 2;
  }
  return 0;
}
