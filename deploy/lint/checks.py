"""Checks of the deploy kit that no schema validator makes (run by scripts/deploy-lint.sh).

    python checks.py manifests <deploy/kubernetes>
        The numbers the product specifies are the ones in the manifests (probe, autoscaler), the
        drain arithmetic holds, and every Pods metric the autoscaler reads is one the Prometheus
        Adapter rules define.
    python checks.py adapter-rules <prometheus-adapter-config.yaml> <out.yml>
        Writes each adapter rule's metricsQuery, with its template filled in as the adapter
        would for "all pods of all namespaces", as a Prometheus recording rule named after the
        custom metric, so `promtool test rules` can check the queries compute what they claim
        (deploy/prometheus/adapter_test.yml).

Exits 1 with one line per problem.
"""

import pathlib
import re
import sys

import yaml

# The product's numbers (health check, autoscaling); deploy/README.md says where each comes from.
READINESS = {"periodSeconds": 30, "timeoutSeconds": 5, "failureThreshold": 3, "successThreshold": 2}
HPA = {"minReplicas": 3, "maxReplicas": 100, "cpu": 70, "memory": 80, "scaleUp": 60, "scaleDown": 300}


def load_all(directory):
    docs = {}
    for path in sorted(pathlib.Path(directory).glob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            if doc:
                docs[(doc["kind"], doc["metadata"]["name"])] = doc
    return docs


def adapter_rules(configmap):
    return yaml.safe_load(configmap["data"]["config.yaml"])["rules"]


def check_manifests(directory):
    problems = []
    docs = load_all(directory)
    deployment = docs[("Deployment", "fraiseql")]
    pod = deployment["spec"]["template"]["spec"]
    container = next(c for c in pod["containers"] if c["name"] == "fraiseql")

    readiness = container["readinessProbe"]
    if readiness["httpGet"]["path"] != "/health/ready":
        problems.append(f"readinessProbe path is {readiness['httpGet']['path']}, want /health/ready")
    for key, want in READINESS.items():
        if readiness.get(key) != want:
            problems.append(f"readinessProbe.{key} is {readiness.get(key)!r}, the product says {want}")
    if container["livenessProbe"]["httpGet"]["path"] != "/health/live":
        problems.append("livenessProbe must use /health/live (it never touches the database)")

    env = {e["name"]: e.get("value") for e in container.get("env", [])}
    drain = int(env.get("FRAISEQL_DRAIN_S", "0"))
    pre_stop = container["lifecycle"]["preStop"]["sleep"]["seconds"]
    grace = pod["terminationGracePeriodSeconds"]
    if grace < pre_stop + drain + 5:
        problems.append(
            f"terminationGracePeriodSeconds {grace} < preStop sleep {pre_stop} + FRAISEQL_DRAIN_S "
            f"{drain} + 5 s margin: Kubernetes would kill requests still draining")

    hpa = docs[("HorizontalPodAutoscaler", "fraiseql")]["spec"]
    for key in ("minReplicas", "maxReplicas"):
        if hpa[key] != HPA[key]:
            problems.append(f"HPA {key} is {hpa[key]!r}, the product says {HPA[key]}")
    resources = {m["resource"]["name"]: m["resource"]["target"].get("averageUtilization")
                 for m in hpa["metrics"] if m["type"] == "Resource"}
    for name in ("cpu", "memory"):
        if resources.get(name) != HPA[name]:
            problems.append(f"HPA {name} target is {resources.get(name)!r}, the product says {HPA[name]}")
    for direction, key in (("scaleUp", "scaleUp"), ("scaleDown", "scaleDown")):
        window = hpa["behavior"][direction]["stabilizationWindowSeconds"]
        if window != HPA[key]:
            problems.append(f"HPA {direction} window is {window!r}, the product says {HPA[key]}")
    if "resources" not in container or "cpu" not in container["resources"].get("requests", {}):
        problems.append("the container needs a CPU request: the HPA's CPU target is a share of it")

    defined = {r["name"]["as"] for r in adapter_rules(docs[("ConfigMap", "adapter-config")])}
    for metric in hpa["metrics"]:
        if metric["type"] == "Pods" and metric["pods"]["metric"]["name"] not in defined:
            problems.append(f"HPA reads Pods metric {metric['pods']['metric']['name']}, "
                            f"which no Prometheus Adapter rule defines ({sorted(defined)})")
    return problems


def expand_adapter_rules(configmap_path, out_path):
    configmap = yaml.safe_load(pathlib.Path(configmap_path).read_text())
    rules = []
    for rule in adapter_rules(configmap):
        series = re.fullmatch(r"\^?(\w+)\$?", rule["name"]["matches"]).group(1)
        query = (rule["metricsQuery"]
                 .replace("<<.Series>>", series)
                 .replace("<<.LabelMatchers>>", 'namespace!="",pod!=""')
                 .replace("<<.GroupBy>>", "namespace,pod"))
        if "<<" in query:
            return [f"{rule['name']['as']}: template left unexpanded in {query}"]
        rules.append({"record": rule["name"]["as"], "expr": query})
    pathlib.Path(out_path).write_text(yaml.safe_dump({"groups": [{"name": "adapter", "rules": rules}]}))
    return []


def main(argv):
    if len(argv) == 3 and argv[1] == "manifests":
        problems = check_manifests(argv[2])
    elif len(argv) == 4 and argv[1] == "adapter-rules":
        problems = expand_adapter_rules(argv[2], argv[3])
    else:
        print(__doc__, file=sys.stderr)
        return 2
    for problem in problems:
        print(f"deploy check: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
