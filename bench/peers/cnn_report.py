"""Turns the JSON lines of bench/compare_cnn.sh into a markdown report: each framework at its
best configuration for the timed workload (seconds per epoch extrapolated from a fixed number
of steps) and for the one full epoch with its test accuracy, the ratio of the fastest peer to
trainyard, every configuration measured, the machine and the versions. Standard library only;
the machine probe and the summaries are report.py's.

  cnn_report.py RESULTS.jsonl [--machine M.json]
"""

import argparse
import json
import sys

from report import (PEERS, FRAMEWORKS, best_configs, read_results, summarize,
                    versions_by_framework)

WORKLOAD_TEXT = {
    "steps_b64": "s/epoch, extrapolated to 938 steps from timed passes of {steps} steps",
    "epoch_b64": "s for one full epoch of 938 steps, warm-up included",
}


def report(rows, machine):
    groups = summarize(rows)
    best = best_configs(groups)
    workloads = [w for w in WORKLOAD_TEXT if any(key[1] == w for key in best)]
    frameworks = [f for f in FRAMEWORKS if any((f, w) in best for w in workloads)]
    steps = sorted({row.get("steps_timed") for row in rows if row.get("steps_timed")})
    rounds = max((g["n"] for (_, _, w), g in groups.items() if w == "steps_b64"), default=0)
    lines = ["## CNN on Fashion-MNIST (batch 64): trainyard and its peers", ""]
    if machine:
        cpu = machine.get("cpu_model") or "unknown CPU"
        lines.append(f"Machine: {cpu}, {machine.get('cpus')} CPUs ({machine.get('cores')} cores), "
                     f"{machine.get('memory_gib')} GiB memory, Linux {machine.get('kernel')}; "
                     f"at the start the CPUs were {machine.get('cpu_busy_percent')}% busy "
                     f"(load average {machine.get('loadavg')}).")
    lines.append(f"steps_b64: the median over {rounds} alternating rounds of each framework's "
                 "fastest configuration; epoch_b64: one run per configuration. Lower is better.")
    lines.append("")
    header = ["workload", "unit"] + frameworks + ["fastest peer / trainyard"]
    lines.append("| " + " | ".join(header) + " |")
    lines.append("|" + "---|" * len(header))
    for workload in workloads:
        unit = WORKLOAD_TEXT[workload].format(steps="/".join(str(s) for s in steps) or "?")
        cells = [workload, unit]
        for framework in frameworks:
            entry = best.get((framework, workload))
            cells.append(f"{entry[1]['median']:.2f}" if entry else "not run")
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
        lines += ["", "Test accuracy after one epoch (10,000 test images):", "",
                  "| framework | config | epoch seconds | test accuracy |", "|---|---|---|---|"]
        for (framework, config, _), group in accuracy_rows:
            accuracy = sorted(group["accuracies"])[len(group["accuracies"]) // 2]
            lines.append(f"| {framework} | {config} | {group['median']:.2f} | {accuracy:.4f} |")

    lines += ["", "Every configuration measured (median, min-max over runs):", "",
              "| framework | config | workload | median s/epoch | min-max | runs | best |",
              "|---|---|---|---|---|---|---|"]
    for (framework, config, workload), group in sorted(
            groups.items(), key=lambda item: (list(WORKLOAD_TEXT).index(item[0][2])
                                              if item[0][2] in WORKLOAD_TEXT else 99,
                                              item[0][0], item[0][1])):
        is_best = best[(framework, workload)][0] == config
        lines.append(f"| {framework} | {config} | {workload} | {group['median']:.2f} | "
                     f"{group['min']:.2f}-{group['max']:.2f} | {group['n']} | "
                     f"{'yes' if is_best else ''} |")

    lines += ["", "Versions:", ""]
    for framework, versions in sorted(versions_by_framework(rows).items()):
        text = ", ".join(f"{name} {version}" for name, version in sorted(versions.items()))
        lines.append(f"- {framework}: {text}")
    return "\n".join(lines) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", nargs="+", help="JSON-lines files from compare_cnn.sh")
    parser.add_argument("--machine", help="machine description written by report.py --machine-info")
    args = parser.parse_args()
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
