"""Checks /metrics (stdin) the way a Prometheus server reads it: the text parses with the
reference client's parser, every family has HELP and TYPE, and lcrules' metrics are there."""
import sys

from prometheus_client.parser import text_string_to_metric_families

text = sys.stdin.read()
families = {f.name: f for f in text_string_to_metric_families(text)}
for line in text.splitlines():
    if line.startswith("# TYPE "):
        name = line.split()[2]
        if f"# HELP {name} " not in text:
            sys.exit(f"{name} has no HELP line")
required = {
    "lcrules_requests": "counter",
    "lcrules_eval_duration_seconds": "histogram",
    "lcrules_reloads": "counter",
    "lcrules_commands_run": "counter",
    "lcrules_command_cache_hits": "counter",
    "lcrules_rules_loaded": "gauge",
}
for name, kind in required.items():
    if name not in families:
        sys.exit(f"missing metric {name}")
    if families[name].type != kind:
        sys.exit(f"{name} is a {families[name].type}, not a {kind}")
requests = [s for s in families["lcrules_requests"].samples if s.name == "lcrules_requests_total"]
if not any(s.labels.get("endpoint") and s.labels.get("status") for s in requests):
    sys.exit("requests are not counted by endpoint and status")
buckets = [s for s in families["lcrules_eval_duration_seconds"].samples if s.name.endswith("_bucket")]
if buckets[-1].labels["le"] != "+Inf" or any(a.value > b.value for a, b in zip(buckets, buckets[1:])):
    sys.exit("histogram buckets are not cumulative up to +Inf")
