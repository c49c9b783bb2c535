"""Turns the JSON lines of bench/compare_mlp.sh into a markdown report: one table of
workload x framework (each framework at its best configuration), the ratio of the fastest
peer to trainyard, test accuracies, every configuration measured, the machine and the
peers' versions. Standard library only.

  report.py --machine-info OUT.json         record this machine (compare_mlp.sh does this first)
  report.py RESULTS.jsonl [--machine M.json] print the report
"""

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time

FRAMEWORKS = ["trainyard", "keras-tensorflow", "pytorch"]
PEERS = ["keras-tensorflow", "pytorch"]
WORKLOAD_ORDER = ["epoch_b32", "epoch_b256", "step_b1"]
REQUIRED_FIELDS = {"framework", "config", "workload", "value", "unit", "test_accuracy",
                   "versions"}


def cpu_busy_percent(seconds=1.0):
    """Share of all CPUs' time spent on anything but idle and I/O wait, over `seconds`."""
    def sample():
        with open("/proc/stat") as stat:
            ticks = [int(t) for t in stat.readline().split()[1:]]
        return sum(ticks), ticks[3] + ticks[4]  # total, idle + iowait
    total0, idle0 = sample()
    time.sleep(seconds)
    total1, idle1 = sample()
    if total1 == total0:
        return 0.0
    return round(100.0 * (1 - (idle1 - idle0) / (total1 - total0)), 1)


def machine_info():
    """CPU model, CPU and core counts, memory, kernel, load average and how busy the CPUs
    are right now, read from lscpu and /proc."""
    info = {"cpu_model": None, "cpus": os.cpu_count(), "cores": None,
            "memory_gib": None, "kernel": platform.release(), "loadavg": None,
            "cpu_busy_percent": None}
    try:
        lscpu = dict(line.split(":", 1) for line in subprocess.run(
            ["lscpu"], capture_output=True, text=True, check=True).stdout.splitlines()
            if ":" in line)
        lscpu = {k.strip(): v.strip() for k, v in lscpu.items()}
        info["cpu_model"] = lscpu.get("Model name")
        if lscpu.get("Core(s) per socket", "").isdigit() and lscpu.get("Socket(s)", "").isdigit():
            info["cores"] = int(lscpu["Core(s) per socket"]) * int(lscpu["Socket(s)"])
    except (OSError, subprocess.CalledProcessError):
        pass
    try:
        with open("/proc/meminfo") as meminfo:
            for line in meminfo:
                if line.startswith("MemTotal:"):
                    info["memory_gib"] = round(int(line.split()[1]) / 1024 / 1024, 1)
        with open("/proc/loadavg") as loadavg:
            info["loadavg"] = " ".join(loadavg.read().split()[:3])
        info["cpu_busy_percent"] = cpu_busy_percent()
    except (OSError, ValueError, IndexError):
        pass
    return info


def read_results(paths):
    rows = []
    for path in paths:
        with open(path) as f:
            for number, line in enumerate(f, 1):
                line = line.strip()
                if not line:
                    continue
                try:
                    row = json.loads(line)
                except json.JSONDecodeError as error:
                    sys.exit(f"{path}:{number}: not JSON: {error}")
                missing = REQUIRED_FIELDS - row.keys()
                if missing:
                    sys.exit(f"{path}:{number}: missing fields {sorted(missing)}")
                rows.append(row)
    return rows


def format_value(value, unit):
    return f"{value:.3f}" if unit == "s/epoch" else f"{value:.1f}"


def summarize(rows):
    """{(framework, config, workload): dict(median, min, max, n, unit, accuracies)}"""
    groups = {}
    for row in rows:
        key = (row["framework"], row["config"], row["workload"])
        group = groups.setdefault(key, {"values": [], "unit": row["unit"], "accuracies": []})
        group["values"].append(row["value"])
        if row["test_accuracy"] is not None:
            group["accuracies"].append(row["test_accuracy"])
    for group in groups.values():
        values = group["values"]
        group.update(median=statistics.median(values), min=min(values), max=max(values),
                     n=len(values))
    return groups


def best_configs(groups):
    """{(framework, workload): (config, group)} with the lowest median time."""
    best = {}
    for (framework, config, workload), group in groups.items():
        key = (framework, workload)
        if key not in best or group["median"] < best[key][1]["median"]:
            best[key] = (config, group)
    return best


def versions_by_framework(rows):
    versions = {}
    for row in rows:
        versions.setdefault(row["framework"], {}).update(row["versions"] or {})
    return versions


def report(rows, machine):
    groups = summarize(rows)
    best = best_configs(groups)
    workloads = sorted({w for _, w in best},
                       key=lambda w: (WORKLOAD_ORDER.index(w) if w in WORKLOAD_ORDER else 99, w))
    frameworks = [f for f in FRAMEWORKS if any((f, w) in best for w in workloads)]
    frameworks += sorted({f for f, _ in best} - set(frameworks))
    rounds = max((g["n"] for g in groups.values()), default=0)
    lines = ["## Tutorial MLP on Fashion-MNIST: trainyard and its peers", ""]
    if machine:
        cpu = machine.get("cpu_model") or "unknown CPU"
        lines.append(f"Machine: {cpu}, {machine.get('cpus')} CPUs ({machine.get('cores')} cores), "
                     f"{machine.get('memory_gib')} GiB memory, Linux {machine.get('kernel')}; "
                     f"at the start the CPUs were {machine.get('cpu_busy_percent')}% busy "
                     f"(load average {machine.get('loadavg')}).")
    lines.append(f"Each cell: the median over {rounds} alternating rounds of the framework's "
                 "fastest configuration. Lower is better.")
    lines.append("")
    header = ["workload", "unit"] + frameworks + ["fastest peer / trainyard"]
    lines.append("| " + " | ".join(header) + " |")
    lines.append("|" + "---|" * len(header))
    for workload in workloads:
        unit = next(g["unit"] for (f, w), (_, g) in best.items() if w == workload)
        cells = [workload, unit]
        for framework in frameworks:
            entry = best.get((framework, workload))
            cells.append(format_value(entry[1]["median"], unit) if entry else "not run")
        peer_times = [best[(p, workload)][1]["median"] for p in PEERS if (p, workload) in best]
        ours = best.get(("trainyard", workload))
        if ours and peer_times:
            ratio = min(peer_times) / ours[1]["median"]
            cells.append(f"{ratio:.2f}x" + (" (trainyard faster)" if ratio > 1 else ""))
        else:
            cells.append("n/a")
        lines.append("| " + " | ".join(cells) + " |")

    accuracy_rows = [(key, g) for key, g in sorted(groups.items()) if g["accuracies"]]
    if accuracy_rows:
        lines += ["", "Test accuracy after the full 10-epoch run (10,000 test images):", "",
                  "| framework | config | workload | test accuracy (median) |", "|---|---|---|---|"]
        for (framework, config, workload), group in accuracy_rows:
            lines.append(f"| {framework} | {config} | {workload} | "
                         f"{statistics.median(group['accuracies']):.4f} |")

    lines += ["", "Every configuration measured (median, min-max over rounds):", "",
              "| framework | config | workload | median | min-max | runs | best |",
              "|---|---|---|---|---|---|---|"]
    for (framework, config, workload), group in sorted(
            groups.items(), key=lambda item: (
                WORKLOAD_ORDER.index(item[0][2]) if item[0][2] in WORKLOAD_ORDER else 99,
                item[0][0], item[0][1])):
        unit = group["unit"]
        is_best = best[(framework, workload)][0] == config
        lines.append(
            f"| {framework} | {config} | {workload} | {format_value(group['median'], unit)} "
            f"{unit} | {format_value(group['min'], unit)}-{format_value(group['max'], unit)} | "
            f"{group['n']} | {'yes' if is_best else ''} |")

    lines += ["", "Versions:", ""]
    for framework, versions in sorted(versions_by_framework(rows).items()):
        text = ", ".join(f"{name} {version}" for name, version in sorted(versions.items()))
        lines.append(f"- {framework}: {text}")
    return "\n".join(lines) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", nargs="*", help="JSON-lines files from compare_mlp.sh")
    parser.add_argument("--machine", help="machine description written by --machine-info")
    parser.add_argument("--machine-info", metavar="OUT", help="write this machine's description")
    args = parser.parse_args()
    if args.machine_info:
        with open(args.machine_info, "w") as f:
            json.dump(machine_info(), f)
        return
    if not args.results:
        parser.error("give at least one results file")
    rows = read_results(args.results)
    if not rows:
        sys.exit("no measurements in " + ", ".join(args.results))
    machine = None
    if args.machine:
        with open(args.machine) as f:
            machine = json.load(f)
    sys.stdout.write(report(rows, machine))


if __name__ == "__main__":
    main()
