// The trainyard subcommands. Each file under commands/ registers one subcommand on the
// top-level CLI::App; main.cpp only calls these and runs the parser.
// Commands print results to stdout and throw trainyard::Error (which main reports on
// stderr with a non-zero exit) when they cannot do what was asked.
#pragma once

#include <CLI/CLI.hpp>

namespace trainyard::cli {

// `trainyard advise job.json [--deadline 2h] [--budget USD] [--max-instances N] [--model FILE]`
void add_advise_command(CLI::App& app);
// `trainyard instances [TYPE...] [--gpu] [--min-gpu-memory GiB] [--json]`
void add_instances_command(CLI::App& app);
// `trainyard gpus [--json]`
void add_gpus_command(CLI::App& app);
// `trainyard doctor [--json]`: exits non-zero when a check fails
void add_doctor_command(CLI::App& app);
// `trainyard train job.json [--data-dir DIR] [--detach] [--quiet]`
void add_train_command(CLI::App& app);
// `trainyard describe NAME`, `list`, `logs NAME [--follow]`, `stop NAME`
void add_job_query_commands(CLI::App& app);
// `trainyard serve [--listen HOST:PORT] [--credentials FILE]`, `credentials create`
void add_serve_commands(CLI::App& app);
// `trainyard model summary FILE`, `model convert SOURCE DEST [--config CONFIG]`
void add_model_commands(CLI::App& app);
// Hidden: `supervise NAME`, `builtin-train`
void add_internal_commands(CLI::App& app);

}  // namespace trainyard::cli
