"""The rounds and the report of bench/job_overhead.sh: times a `trainyard train` job and a
bare run of the same trainer (`trainyard builtin-train` with the SM_* environment laid out
by hand), alternating, and reports what the job adds before the first training step and
after the last one. Standard library only.

  job_overhead.py run --trainyard BIN --data-dir D --results STEM [--rounds N] ...
  job_overhead.py report STEM.jsonl [--machine STEM.machine.json]

Both sides are timed the same way: CLOCK_REALTIME microseconds just before the process is
started and just after it is reaped here, and the trainer's own first-step and last-step
times (TRAINYARD_STEP_TIMES_FILE, src/jobs/builtin/README.md).
"""

import argparse
import json
import os
import select
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "peers"))
import report as peers_report  # noqa: E402  (bench/peers/report.py: machine_info)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXAMPLE_JOB = os.path.join(ROOT, "examples", "fashion_mnist", "job.json")
BUCKET = ("trainyard-examples", "fashion-mnist")
# The channels the benchmark's job has: no test channel, so the time after the last step
# is the trainer's artifacts and trainyard's work, not an evaluation.
CHANNELS = {"training": "train", "model": "model"}
REQUIRED_FIELDS = {"side", "round", "launch_us", "first_step_begin_us", "last_step_end_us",
                   "exit_us", "exit_code", "ok"}
TARGET_SECONDS = 0.5


def now_us():
    return time.clock_gettime_ns(time.CLOCK_REALTIME) // 1000


def fail(message):
    sys.exit(f"job_overhead.py: {message}")


def decode_hyperparameter(text):
    """What SM_HPS holds for a hyperparameter: its JSON value if it parses, else the string
    (as the training toolkit decodes them)."""
    try:
        return json.loads(text)
    except (json.JSONDecodeError, TypeError):
        return text


def bench_job(epochs):
    """The example job, for `epochs` epochs, without its test channel."""
    with open(EXAMPLE_JOB) as f:
        job = json.load(f)
    job["HyperParameters"]["epochs"] = str(epochs)
    job["InputDataConfig"] = [c for c in job["InputDataConfig"]
                              if c["ChannelName"] in CHANNELS]
    if {c["ChannelName"] for c in job["InputDataConfig"]} != set(CHANNELS):
        fail(f"{EXAMPLE_JOB}: expected the channels {sorted(CHANNELS)}")
    metrics = job["AlgorithmSpecification"].get("MetricDefinitions", [])
    job["AlgorithmSpecification"]["MetricDefinitions"] = [
        m for m in metrics if not m["Name"].startswith("test:")]
    return job


def link_or_copy(source, target):
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


def lay_out_bare_inputs(data_dir):
    """<data-dir>/bare-inputs/<channel>/: the objects the job stages, linked as the job's
    staging links them, so both sides read the same files."""
    inputs = os.path.join(data_dir, "bare-inputs")
    store = os.path.join(data_dir, "s3", *BUCKET)
    for channel, folder in CHANNELS.items():
        source = os.path.join(store, folder)
        target = os.path.join(inputs, channel)
        os.makedirs(target, exist_ok=True)
        names = sorted(os.listdir(source))
        if not names:
            fail(f"{source} is empty: run scripts/stage-example-data {data_dir}")
        for name in names:
            if not os.path.exists(os.path.join(target, name)):
                link_or_copy(os.path.join(source, name), os.path.join(target, name))
    return inputs


def read_step_times(path):
    try:
        with open(path) as f:
            times = json.load(f)
        return times["first_step_begin_us"], times["last_step_end_us"], times["steps"]
    except (OSError, ValueError, KeyError) as error:
        return None, None, f"{path}: {error}"


def kill_group(process):
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass  # already gone


def wait_for_exit(process, timeout_s):
    """CLOCK_REALTIME microseconds the moment `process` ends, or None after timeout_s. A
    pidfd wakes this at once; Popen.wait(timeout) would poll with sleeps of up to 50 ms and
    blur the very interval measured here."""
    try:
        pidfd = os.pidfd_open(process.pid)
    except (AttributeError, OSError):
        # No pidfd (Linux before 5.3): a blocking wait, which also returns at once, with a
        # timer that ends the run when it takes too long.
        timed_out = threading.Event()

        def stop():
            timed_out.set()
            kill_group(process)

        timer = threading.Timer(timeout_s, stop)
        timer.start()
        process.wait()
        exit_ = now_us()
        timer.cancel()
        return None if timed_out.is_set() else exit_
    try:
        poller = select.poll()
        poller.register(pidfd, select.POLLIN)
        if not poller.poll(timeout_s * 1000):
            return None
        return now_us()
    finally:
        os.close(pidfd)


def run_timed(command, env, cwd, stdout_path, timeout_s):
    """(launch_us, exit_us, exit code or None when stopped after timeout_s)."""
    with open(stdout_path, "wb") as out:
        launch = now_us()
        process = subprocess.Popen(command, env=env, cwd=cwd, stdout=out,
                                   stderr=subprocess.STDOUT, start_new_session=True)
        exit_ = wait_for_exit(process, timeout_s)
        if exit_ is None:
            kill_group(process)
            process.wait()
            return launch, now_us(), None
        return launch, exit_, process.wait()


class Bench:
    def __init__(self, args):
        self.args = args
        self.trainyard = os.path.abspath(args.trainyard)
        self.data_dir = os.path.abspath(args.data_dir)
        self.stamp = args.stamp
        self.work = os.path.join(self.data_dir, "bench-" + self.stamp)
        os.makedirs(self.work, exist_ok=True)
        self.bare_inputs = lay_out_bare_inputs(self.data_dir)
        self.job = bench_job(args.epochs)
        self.hyperparameters = json.dumps(
            {k: decode_hyperparameter(v) for k, v in self.job["HyperParameters"].items()})
        # The environment trainyard gives a job (training_command.cpp's base): both sides get
        # it, so neither inherits this shell's variables.
        self.base_env = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                         "LANG": "C.UTF-8"}
        if os.environ.get("TRAINYARD_NUM_THREADS"):
            self.base_env["TRAINYARD_NUM_THREADS"] = os.environ["TRAINYARD_NUM_THREADS"]
        self.log = open(args.results + ".log", "a")

    def note(self, text):
        print(f"job_overhead: {text}", file=sys.stderr, flush=True)

    def keep_output(self, title, path):
        self.log.write(f"=== {title}\n")
        with open(path, errors="replace") as f:
            self.log.write(f.read())
        self.log.flush()

    def row(self, side, round_, name, launch, exit_, code, times_path, extra):
        first, last, steps = read_step_times(times_path)
        ok = code == 0 and first is not None and isinstance(steps, int) and steps > 0
        row = {"side": side, "round": round_, "name": name, "launch_us": launch,
               "first_step_begin_us": first, "last_step_end_us": last, "exit_us": exit_,
               "exit_code": code, "steps": steps if isinstance(steps, int) else None, "ok": ok}
        if not isinstance(steps, int):
            row["problem"] = steps
        row.update(extra)
        if ok:
            row.update(to_first_step_s=(first - launch) / 1e6, training_s=(last - first) / 1e6,
                       last_step_to_exit_s=(exit_ - last) / 1e6, total_s=(exit_ - launch) / 1e6)
        if row.get("status") not in (None, "Completed"):
            row["ok"] = False
        return row

    def run_job(self, round_):
        name = f"overhead-{self.stamp.lower()}-r{round_}"
        times_path = os.path.join(self.work, name + ".step-times.json")
        job = json.loads(json.dumps(self.job))
        job["Environment"] = {"TRAINYARD_STEP_TIMES_FILE": times_path}
        job_file = os.path.join(self.work, name + ".job.json")
        with open(job_file, "w") as f:
            json.dump(job, f, indent=1)
        output = os.path.join(self.work, name + ".out")
        command = [self.trainyard, "train", job_file, "--data-dir", self.data_dir,
                   "--name", name]
        env = dict(self.base_env, HOME=os.environ.get("HOME", self.data_dir))
        launch, exit_, code = run_timed(command, env, self.work, output, self.args.timeout)
        self.keep_output(f"round {round_}, job {name}: {' '.join(command)} (exit {code})",
                         output)
        extra = {}
        if code is None:
            subprocess.run([self.trainyard, "stop", name, "--data-dir", self.data_dir],
                           capture_output=True)
        described = subprocess.run(
            [self.trainyard, "describe", name, "--data-dir", self.data_dir],
            capture_output=True, text=True)
        try:
            job_record = json.loads(described.stdout)
            extra["status"] = job_record.get("TrainingJobStatus")
            extra["transitions"] = [
                {k: t.get(k) for k in ("Status", "StartTime", "EndTime")}
                for t in job_record.get("SecondaryStatusTransitions", [])]
        except ValueError:
            extra["status"] = None
            extra["problem"] = f"trainyard describe {name}: {described.stderr.strip()[:300]}"
        return self.row("job", round_, name, launch, exit_, code, times_path, extra)

    def run_bare(self, round_):
        name = f"bare-r{round_}"
        root = os.path.join(self.work, name)
        for folder in ("model", "output/data"):
            os.makedirs(os.path.join(root, folder), exist_ok=True)
        times_path = os.path.join(self.work, name + ".step-times.json")
        env = dict(self.base_env, HOME=root, SAGEMAKER_BASE_DIR=root,
                   SM_HPS=self.hyperparameters,
                   SM_MODEL_DIR=os.path.join(root, "model"),
                   SM_OUTPUT_DIR=os.path.join(root, "output"),
                   SM_OUTPUT_DATA_DIR=os.path.join(root, "output", "data"),
                   TRAINYARD_STEP_TIMES_FILE=times_path)
        for channel in CHANNELS:
            env["SM_CHANNEL_" + channel.upper()] = os.path.join(self.bare_inputs, channel)
        output = os.path.join(self.work, name + ".out")
        command = [self.trainyard, "builtin-train"]
        launch, exit_, code = run_timed(command, env, root, output, self.args.timeout)
        self.keep_output(f"round {round_}, bare trainer: {' '.join(command)} (exit {code})",
                         output)
        return self.row("bare", round_, name, launch, exit_, code, times_path, {})

    def run(self):
        rows = []
        results = open(self.args.results + ".jsonl", "a")
        total = self.args.warmup + self.args.rounds
        for index in range(total):
            round_ = index - self.args.warmup + 1  # warm-up rounds are 0, -1, ...
            sides = [("job", self.run_job), ("bare", self.run_bare)]
            if index % 2:
                sides.reverse()  # alternate which side goes first
            for side, run in sides:
                row = run(round_)
                row["warmup"] = round_ < 1
                results.write(json.dumps(row) + "\n")
                results.flush()
                rows.append(row)
                label = "warm-up" if round_ < 1 else f"round {round_}/{self.args.rounds}"
                if row["ok"]:
                    self.note(f"{label}, {side}: first step after {row['to_first_step_s']:.3f} s, "
                              f"exit {row['last_step_to_exit_s']:.3f} s after the last step")
                else:
                    self.note(f"{label}, {side}: FAILED (exit {row['exit_code']}, status "
                              f"{row.get('status')}, {row.get('problem', '')}; see "
                              f"{self.args.results}.log)")
        return rows


# ---- the report -----------------------------------------------------------------------

def read_rows(path):
    rows = []
    with open(path) as f:
        for number, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as error:
                fail(f"{path}:{number}: not JSON: {error}")
            missing = REQUIRED_FIELDS - row.keys()
            if missing:
                fail(f"{path}:{number}: missing fields {sorted(missing)}")
            rows.append(row)
    return rows


def stage_durations(row):
    """{stage: seconds} from a job's SecondaryStatusTransitions, with the time from the
    launch to the first transition (the command starting, parsing, storing the job) and
    from the last one to the process's exit."""
    transitions = row.get("transitions") or []
    if not transitions or not isinstance(transitions[0].get("StartTime"), (int, float)):
        return {}
    durations = {"launch to stored": transitions[0]["StartTime"] - row["launch_us"] / 1e6}
    for transition in transitions:
        start, end = transition.get("StartTime"), transition.get("EndTime")
        # The final status (Completed) starts and ends at once: nothing to show.
        if isinstance(start, (int, float)) and isinstance(end, (int, float)) and end > start:
            durations[transition["Status"]] = end - start
    last = transitions[-1].get("EndTime") or transitions[-1].get("StartTime")
    if isinstance(last, (int, float)):
        durations["after the last status"] = row["exit_us"] / 1e6 - last
    return durations


def median_of(rows, key):
    values = [r[key] for r in rows]
    return statistics.median(values), min(values), max(values)


def report(rows, machine):
    measured = [r for r in rows if r["ok"] and not r.get("warmup")]
    failed = [r for r in rows if not r["ok"]]
    by_side = {side: [r for r in measured if r["side"] == side] for side in ("job", "bare")}
    lines = ["## Job overhead: `trainyard train` against a bare run of the same trainer", ""]
    if machine:
        cpu = machine.get("cpu_model") or "unknown CPU"
        lines.append(f"Machine: {cpu}, {machine.get('cpus')} CPUs ({machine.get('cores')} cores), "
                     f"{machine.get('memory_gib')} GiB memory, Linux {machine.get('kernel')}; "
                     f"at the start the CPUs were {machine.get('cpu_busy_percent')}% busy "
                     f"(load average {machine.get('loadavg')}), at the end "
                     f"{machine.get('end_cpu_busy_percent')}% (load average "
                     f"{machine.get('end_loadavg')}).")
    if not by_side["job"] or not by_side["bare"]:
        lines += ["", f"No complete pair of runs ({len(failed)} failed); nothing to compare."]
        return "\n".join(lines) + "\n"
    rounds = min(len(by_side["job"]), len(by_side["bare"]))
    steps = by_side["job"][0]["steps"]
    lines.append(f"Workload: the Fashion-MNIST example job, {steps} training steps. Each value: "
                 f"the median over {rounds} alternating rounds (min-max in brackets).")
    lines.append("")
    lines += ["| interval | job (`trainyard train`) | bare trainer | overhead (job - bare) |",
              "|---|---|---|---|"]
    overheads = {}
    for key, title in (("to_first_step_s", "start to the first training step"),
                       ("training_s", "first step to last step (training)"),
                       ("last_step_to_exit_s", "last step to exit (job Completed)"),
                       ("total_s", "start to exit")):
        job, job_lo, job_hi = median_of(by_side["job"], key)
        bare, bare_lo, bare_hi = median_of(by_side["bare"], key)
        overheads[key] = job - bare
        lines.append(f"| {title} | {job:.3f} s ({job_lo:.3f}-{job_hi:.3f}) | "
                     f"{bare:.3f} s ({bare_lo:.3f}-{bare_hi:.3f}) | {job - bare:+.3f} s |")
    total = overheads["to_first_step_s"] + overheads["last_step_to_exit_s"]
    verdict = "within" if total < TARGET_SECONDS else "OVER"
    lines += ["", f"Overhead: **{overheads['to_first_step_s']:.3f} s** before the first step + "
              f"**{overheads['last_step_to_exit_s']:.3f} s** after the last = "
              f"**{total:.3f} s**, {verdict} the {TARGET_SECONDS} s target."]

    stages = {}
    for row in by_side["job"]:
        for status, seconds in stage_durations(row).items():
            stages.setdefault(status, []).append(seconds)
    if stages:
        lines += ["", "Where the job's time goes: its secondary statuses (DescribeTrainingJob's "
                  "transitions), median seconds in each; Training holds the trainer's whole "
                  "run:", "",
                  "| " + " | ".join(stages) + " |", "|" + "---|" * len(stages),
                  "| " + " | ".join(f"{statistics.median(v):.3f}" for v in stages.values())
                  + " |"]
    if failed:
        lines += ["", f"{len(failed)} run(s) failed and are left out: " + ", ".join(
            f"{r['side']} round {r['round']} (exit {r['exit_code']}, {r.get('status')})"
            for r in failed) + "."]
    return "\n".join(lines) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="run the rounds, then print the report")
    run.add_argument("--trainyard", required=True, help="the trainyard executable")
    run.add_argument("--data-dir", required=True,
                     help="trainyard's data directory, the example data staged in it")
    run.add_argument("--results", required=True, help="results path without extension")
    run.add_argument("--stamp", required=True, help="the run's UTC timestamp, for job names")
    run.add_argument("--rounds", type=int, default=7)
    run.add_argument("--warmup", type=int, default=1, help="rounds run first and left out")
    run.add_argument("--epochs", type=int, default=1)
    run.add_argument("--timeout", type=int, default=600, help="seconds one run may take")
    rep = commands.add_parser("report", help="print the report of a results file")
    rep.add_argument("results", help="a .jsonl file written by run")
    rep.add_argument("--machine", help="the .machine.json written beside it")
    args = parser.parse_args()

    if args.command == "report":
        machine = None
        if args.machine:
            with open(args.machine) as f:
                machine = json.load(f)
        sys.stdout.write(report(read_rows(args.results), machine))
        return
    for name in ("rounds", "epochs", "timeout"):
        if getattr(args, name) < 1:
            fail(f"--{name} must be at least 1, got {getattr(args, name)}")
    if args.warmup < 0:
        fail(f"--warmup must not be negative, got {args.warmup}")
    if not os.access(args.trainyard, os.X_OK):
        fail(f"{args.trainyard} is not an executable")
    machine = peers_report.machine_info()
    rows = Bench(args).run()
    end = peers_report.machine_info()
    machine.update(end_loadavg=end["loadavg"], end_cpu_busy_percent=end["cpu_busy_percent"])
    with open(args.results + ".machine.json", "w") as f:
        json.dump(machine, f)
    text = report(rows, machine)
    with open(args.results + ".md", "w") as f:
        f.write(text)
    sys.stdout.write(text)
    if not any(r["ok"] for r in rows if not r.get("warmup")):
        sys.exit(1)


if __name__ == "__main__":
    main()
