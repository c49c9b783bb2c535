// Subcommands trainyard runs itself, hidden from help: `supervise NAME` (a background
// supervisor for a detached or orphaned job) and `builtin-train` (the trainyard-keras
// training image's program).
#include <iostream>

#include "cli/commands/commands.h"
#include "cli/job_cli.h"
#include "jobs/builtin/builtin_trainer.h"

namespace trainyard::cli {

void add_internal_commands(CLI::App& app) {
  auto name = std::make_shared<std::string>();
  auto data_dir = std::make_shared<std::string>();
  CLI::App* supervise = app.add_subcommand("supervise", "Run a stored job in the background");
  supervise->group("");  // hidden
  supervise->add_option("name", *name)->required();
  supervise->add_option("--data-dir", *data_dir);
  supervise->callback([name, data_dir] {
    JobCli cli(*data_dir);
    jobs::JobRecord record = cli.service().store().require(*name);
    if (!jobs::is_terminal(record.status)) cli.service().run(record.name);
  });

  CLI::App* builtin = app.add_subcommand("builtin-train", "The trainyard-keras trainer");
  builtin->group("");
  builtin->callback([] {
    int code = jobs::run_builtin_trainer(jobs::process_environment(), std::cout, std::cerr);
    if (code != 0) throw CLI::RuntimeError(code);
  });
}

}  // namespace trainyard::cli
