"""Check deploy/ without a cluster or kustomize: render each kustomization (deploy/render.py),
validate every object against the schemas of Kubernetes KUBERNETES_VERSION (kubernetes-validate,
strict: an unknown field is an error), then check what Front Door needs of them: locked-down
pods, probes, objects that point at each other, network policies, and, in production, settings
the portal accepts (`python -m portal check` is run with the rendered environment).

    python scripts/deploy_check.py                  # base and production; exit 1 on a problem
    python scripts/deploy_check.py --print deploy/overlays/production    # the rendered YAML
"""

from __future__ import annotations

import argparse
import ipaddress
import os
import subprocess
import sys
import typing
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import kubernetes_validate  # type: ignore[import-untyped]
import yaml
from pydantic import SecretStr

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from deploy.render import Object, RenderError, object_id, pod_template, render  # noqa: E402
from portal import settings as portal_settings  # noqa: E402

KUBERNETES_VERSION = "1.31"
BASE = ROOT / "deploy" / "base"
PRODUCTION = ROOT / "deploy" / "overlays" / "production"
SECRET_NAME = "frontdoor-secrets"  # noqa: S105 - the name of the Secret, not a secret
# Beside a production overlay: the keys its Secret must hold (what docs/deploy.md has you fill).
SECRETS_FILE = "secrets.env.example"
# Components whose containers run the portal's code and so read its settings.
PORTAL_CODE = ("portal", "worker", "migrate")
COMPONENT = "app.kubernetes.io/component"
# Settings that carry credentials although they are not SecretStr.
CREDENTIAL_URLS = {"database_url", "redis_url"}
DOCUMENTATION_NETWORKS = [
    ipaddress.IPv4Network(net) for net in ("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24")
]
# What an egress rule to "anywhere" must still keep out: private networks and cloud metadata.
KEPT_OUT = [
    ipaddress.IPv4Network(net)
    for net in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16")
]

# Where a container's environment variable comes from: ("config"|"secret"|"value", detail).
Source = tuple[str, str]


def check(directory: Path, production: bool) -> list[str]:
    """Every problem found in what `directory` renders; empty when all is well."""
    try:
        objects = render(directory)
    except (RenderError, OSError, yaml.YAMLError) as error:
        return [f"render: {error}"]
    problems = schema_problems(objects)
    problems += security_problems(objects)
    problems += wiring_problems(objects)
    problems += network_problems(objects, production)
    if production:
        problems += settings_problems(objects, secrets_example_keys(directory / SECRETS_FILE))
    return problems


# -- schemas --------------------------------------------------------------------------------


def schema_problems(objects: list[Object]) -> list[str]:
    """Each object against the pinned Kubernetes version's schema, unknown fields refused."""
    problems = []
    for item in objects:
        where = _name(item)
        try:
            kubernetes_validate.validate(item, KUBERNETES_VERSION, strict=True)
        except kubernetes_validate.ValidationError as error:
            path = ".".join(str(part) for part in error.path)
            problems.append(f"{where}: {path}: {error.message}")
        except kubernetes_validate.SchemaNotFoundError as error:
            problems.append(f"{where}: {error.message}")
    return problems


# -- pods -----------------------------------------------------------------------------------


def security_problems(objects: list[Object]) -> list[str]:
    """Pods run as non-root on a read-only root, without privileges, with bounded resources."""
    problems = []
    for item, template in _workloads(objects):
        spec = template.get("spec", {})
        pod = spec.get("securityContext", {})
        if spec.get("automountServiceAccountToken") is not False:
            problems.append(f"{_name(item)}: automountServiceAccountToken must be false")
        mounts_tmp = {volume["name"] for volume in spec.get("volumes", []) if "emptyDir" in volume}
        for container in _containers(template):
            where = f"{_name(item)} container {container['name']}"
            context = container.get("securityContext", {})
            merged = {**pod, **context}
            if merged.get("runAsNonRoot") is not True:
                problems.append(f"{where}: runAsNonRoot must be true")
            if merged.get("seccompProfile", {}).get("type") != "RuntimeDefault":
                problems.append(f"{where}: seccompProfile must be RuntimeDefault")
            if context.get("allowPrivilegeEscalation") is not False:
                problems.append(f"{where}: allowPrivilegeEscalation must be false")
            if context.get("readOnlyRootFilesystem") is not True:
                problems.append(f"{where}: readOnlyRootFilesystem must be true")
            if context.get("privileged"):
                problems.append(f"{where}: must not be privileged")
            capabilities = context.get("capabilities", {})
            if "ALL" not in capabilities.get("drop", []) or capabilities.get("add"):
                problems.append(f"{where}: capabilities must drop ALL and add none")
            if not any(
                mount["mountPath"] == "/tmp" and mount["name"] in mounts_tmp  # noqa: S108
                for mount in container.get("volumeMounts", [])
            ):
                problems.append(f"{where}: needs an emptyDir at /tmp (the root is read-only)")
            resources = container.get("resources", {})
            for kind in ("requests", "limits"):
                for resource in ("cpu", "memory"):
                    if resource not in resources.get(kind, {}):
                        problems.append(f"{where}: resources.{kind}.{resource} is not set")
    return problems


# -- objects pointing at each other ---------------------------------------------------------


def wiring_problems(objects: list[Object]) -> list[str]:
    """Selectors, references and probes lead to something that exists."""
    problems = []
    templates = [template for _, template in _workloads(objects)]
    labels = [template.get("metadata", {}).get("labels", {}) for template in templates]
    for item in objects:
        selector = _selector(item)
        if selector is not None and not any(matches(selector, found) for found in labels):
            problems.append(f"{_name(item)}: its selector matches no pod template")
    problems += _autoscaler_problems(objects)
    problems += _ingress_problems(objects)
    problems += _probe_problems(objects)
    config_maps = {
        item["metadata"]["name"]: item.get("data", {})
        for item in objects
        if item["kind"] == "ConfigMap"
    }
    for item, template in _workloads(objects):
        for container in _containers(template):
            named = {variable["name"] for variable in container.get("env", [])}
            for source in container.get("envFrom", []):
                name = source.get("configMapRef", {}).get("name")
                if name is None:
                    continue
                if name not in config_maps:
                    problems.append(f"{_name(item)}: no ConfigMap {name}")
                for key in sorted(named & set(config_maps.get(name, {}))):
                    problems.append(
                        f"{_name(item)}: {key} is in ConfigMap {name} and in env, which wins"
                    )
    return problems


def _selector(item: Object) -> dict[str, Any] | None:
    """The pod selector of a Service, PodDisruptionBudget, NetworkPolicy or workload."""
    spec = item.get("spec", {})
    if item["kind"] == "Service":
        return {"matchLabels": spec["selector"]} if "selector" in spec else None
    if item["kind"] == "NetworkPolicy":
        selector = spec.get("podSelector", {})
        return selector or None  # {} selects every pod of the namespace
    if item["kind"] in ("PodDisruptionBudget", "Deployment", "StatefulSet", "DaemonSet"):
        return typing.cast(dict[str, Any] | None, spec.get("selector"))
    return None


def _autoscaler_problems(objects: list[Object]) -> list[str]:
    problems = []
    for item in objects:
        if item["kind"] != "HorizontalPodAutoscaler":
            continue
        ref = item["spec"]["scaleTargetRef"]
        targets = [
            found
            for found in objects
            if found["kind"] == ref["kind"] and found["metadata"]["name"] == ref["name"]
        ]
        if not targets:
            problems.append(f"{_name(item)}: scales {ref['kind']} {ref['name']}, not rendered")
        elif "replicas" in targets[0]["spec"]:
            problems.append(
                f"{_name(targets[0])}: sets replicas although {_name(item)} owns the count "
                "(each apply would reset it)"
            )
    return problems


def _ingress_problems(objects: list[Object]) -> list[str]:
    problems = []
    services = {item["metadata"]["name"]: item for item in objects if item["kind"] == "Service"}
    for item in objects:
        if item["kind"] != "Ingress":
            continue
        for rule in item["spec"].get("rules", []):
            for path in rule.get("http", {}).get("paths", []):
                backend = path["backend"]["service"]
                service = services.get(backend["name"])
                ports = [] if service is None else service["spec"]["ports"]
                wanted = backend["port"]
                if not any(
                    port.get("name") == wanted.get("name") or port["port"] == wanted.get("number")
                    for port in ports
                ):
                    problems.append(f"{_name(item)}: no Service port {backend}")
    return problems


# Each long-running HTTP component: its probes (path, or None for any path).
PROBES: dict[str, dict[str, str | None]] = {
    "portal": {"livenessProbe": "/healthz", "readinessProbe": "/readyz", "startupProbe": None},
    "bot": {"livenessProbe": None, "readinessProbe": None, "startupProbe": None},
}


def _probe_problems(objects: list[Object]) -> list[str]:
    problems = []
    for item, template in _workloads(objects):
        component = template.get("metadata", {}).get("labels", {}).get(COMPONENT, "")
        for container in _containers(template):
            ports = {port.get("name") for port in container.get("ports", [])}
            for probe, path in PROBES.get(component, {}).items():
                get = container.get(probe, {}).get("httpGet")
                where = f"{_name(item)} container {container['name']}"
                if get is None:
                    problems.append(f"{where}: no HTTP {probe}")
                elif path is not None and get.get("path") != path:
                    problems.append(f"{where}: {probe} must ask {path}")
                elif isinstance(get.get("port"), str) and get["port"] not in ports:
                    problems.append(f"{where}: {probe} names no port of the container")
    return problems


# -- network --------------------------------------------------------------------------------


def network_problems(objects: list[Object], production: bool) -> list[str]:
    """Everything denied unless allowed; the bot reached from the portal only; in production no
    documentation address left and no egress to private networks through a catch-all."""
    problems = []
    policies = [item for item in objects if item["kind"] == "NetworkPolicy"]
    if not any(
        not policy["spec"].get("podSelector")
        and {"Ingress", "Egress"} <= set(policy["spec"].get("policyTypes", []))
        and not policy["spec"].get("ingress")
        and not policy["spec"].get("egress")
        for policy in policies
    ):
        problems.append("no NetworkPolicy denies all ingress and egress by default")
    bot = _template_labels(objects, "bot")
    portal = _template_labels(objects, "portal")
    # The worker runs the portal's image and answers the texts a portal could not.
    worker = _template_labels(objects, "worker")
    if (
        bot is not None
        and portal is not None
        and not any(
            matches(policy["spec"].get("podSelector", {}), bot)
            and matches(peer.get("podSelector", {"matchLabels": {"-": "-"}}), portal)
            for policy in policies
            for rule in policy["spec"].get("ingress", [])
            for peer in rule.get("from", [])
        )
    ):
        problems.append("no NetworkPolicy lets the portal reach the bot")
    for policy in policies:
        selector = policy["spec"].get("podSelector", {})
        if bot is None or portal is None or not matches(selector, bot):
            continue
        for rule in policy["spec"].get("ingress", []):
            peers = rule.get("from", [])
            if not peers or any(set(peer) != {"podSelector"} for peer in peers):
                problems.append(f"{_name(policy)}: admits the bot from beyond the namespace")
            elif not all(matches(peer["podSelector"], portal) for peer in peers) or any(
                matches(peer["podSelector"], labels)
                for peer in peers
                for labels in _all_template_labels(objects)
                if labels not in (portal, worker)
            ):
                problems.append(
                    f"{_name(policy)}: admits the bot from pods other than the portal and worker"
                )
    for policy, block in _ip_blocks(policies):
        network = ipaddress.ip_network(block["cidr"])
        if not isinstance(network, ipaddress.IPv4Network):
            continue  # the cluster's addresses are IPv4 here
        if production and any(network.subnet_of(doc) for doc in DOCUMENTATION_NETWORKS):
            problems.append(f"{_name(policy)}: {network} is a documentation address: set yours")
        excepted = [ipaddress.IPv4Network(net) for net in block.get("except", [])]
        for private in KEPT_OUT:
            if network.prefixlen == 0 and not any(private.subnet_of(e) for e in excepted):
                problems.append(f"{_name(policy)}: egress to {network} lets {private} through")
    return problems


def _ip_blocks(policies: list[Object]) -> Iterator[tuple[Object, dict[str, Any]]]:
    for policy in policies:
        for rule in policy["spec"].get("egress", []):
            for peer in rule.get("to", []):
                if "ipBlock" in peer:
                    yield policy, peer["ipBlock"]


# -- settings (production) ------------------------------------------------------------------


def secrets_example_keys(path: Path) -> set[str]:
    """The keys the operator's Secret is made from."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return {line.split("=", 1)[0] for line in lines if line and not line.startswith("#")}


def settings_problems(objects: list[Object], secret_keys: set[str]) -> list[str]:
    """The portal, worker and migrations share one environment the portal accepts in production,
    where every name is a setting, every credential comes from the Secret, and every setting
    whose default is local or the sandbox's is set."""
    environments = {
        component: environment(objects, component) for component in (*PORTAL_CODE, "bot")
    }
    portal = environments["portal"]
    if portal is None:
        return ["no portal container"]
    problems = [
        f"the {component} container's environment differs from the portal's"
        for component in PORTAL_CODE
        if environments[component] != portal
    ]
    problems += [
        f"{_name(item)}: take each key of a Secret by name (env secretKeyRef), not envFrom"
        for item, template in _workloads(objects)
        for container in _containers(template)
        for source in container.get("envFrom", [])
        if "secretRef" in source
    ]
    names = set(portal) | set(environments["bot"] or {})
    problems += portal_settings.unknown_variables(dict.fromkeys(names, ""))
    for field, name in _fields():
        source = portal.get(name)
        if (_is_secret(field) or field in CREDENTIAL_URLS) and source and source[0] != "secret":
            problems.append(f"{name} is a credential: take it from the Secret {SECRET_NAME}")
        if source is None and _needs_value(field):
            problems.append(f"{name} is not set, and its default is for a local run")
    referenced = {
        detail
        for env in environments.values()
        for kind, detail in (env or {}).values()
        if kind == "secret"
    }
    for key in sorted(referenced - secret_keys):
        problems.append(f"{key} is taken from the Secret but missing in {SECRETS_FILE}")
    for key in sorted(secret_keys - referenced):
        problems.append(f"{key} is in {SECRETS_FILE} but no container takes it")
    for shared in ("FRONTDOOR_RASA_TOKEN", "FRONTDOOR_BOT_SECRET"):
        if (environments["bot"] or {}).get(shared) != portal.get(shared):
            problems.append(f"{shared}: the bot and the portal must read the same Secret key")
    problems += _portal_check(portal)
    problems += _public_url_problems(objects, portal)
    problems += _image_problems(objects)
    return problems


def environment(objects: list[Object], component: str) -> dict[str, Source] | None:
    """Each variable of the component's first container, with where its value comes from."""
    for _, template in _workloads(objects):
        if template.get("metadata", {}).get("labels", {}).get(COMPONENT) != component:
            continue
        container = template["spec"]["containers"][0]
        found: dict[str, Source] = {}
        for source in container.get("envFrom", []):
            name = source.get("configMapRef", {}).get("name")
            for config in objects:
                if config["kind"] == "ConfigMap" and config["metadata"]["name"] == name:
                    found.update({key: ("config", value) for key, value in config["data"].items()})
        for variable in container.get("env", []):
            ref = variable.get("valueFrom", {}).get("secretKeyRef")
            if ref is not None:
                secret = ref["key"] if ref["name"] == SECRET_NAME else f"{ref['name']}/{ref['key']}"
                found[variable["name"]] = ("secret", secret)
            else:
                found[variable["name"]] = ("value", str(variable.get("value", "")))
        return found
    return None


def _fields() -> Iterator[tuple[str, str]]:
    for field in portal_settings.Settings.model_fields:
        twilio = field in portal_settings.TWILIO_NAMES
        yield field, field.upper() if twilio else f"FRONTDOOR_{field.upper()}"


def _is_secret(field: str) -> bool:
    annotation = portal_settings.Settings.model_fields[field].annotation
    return annotation is SecretStr or SecretStr in typing.get_args(annotation)


def _needs_value(field: str) -> bool:
    """Whether the default serves a local run only: none, this machine, SQLite, the sandbox."""
    default = portal_settings.Settings.model_fields[field].get_default(call_default_factory=True)
    if default is None:
        return True
    text = default.get_secret_value() if isinstance(default, SecretStr) else str(default)
    sandbox = {
        value
        for name, value in vars(portal_settings).items()
        if name.startswith("SANDBOX_") and isinstance(value, str)
    }
    return text in sandbox or "127.0.0.1" in text or text.startswith("sqlite")


def stand_in(name: str) -> str:
    """A value for a Secret's key that passes as real: its form, none of the sandbox's."""
    if name == "FRONTDOOR_DATABASE_URL":
        return "postgresql+psycopg://frontdoor:stand-in@database.invalid/frontdoor"
    if name == "FRONTDOOR_REDIS_URL":
        return "redis://:stand-in@redis.invalid:6379/0"
    return f"stand-in-{name.lower()}-" + "x" * 32


def _portal_check(portal: dict[str, Source]) -> list[str]:
    """`python -m portal check`, as the pod starts it, with the Secret's keys stood in for."""
    env = {"PATH": os.environ.get("PATH", ""), "HOME": os.environ.get("HOME", "/tmp")}  # noqa: S108
    for name, (kind, detail) in portal.items():
        env[name] = stand_in(name) if kind == "secret" else detail
    result = subprocess.run(
        [sys.executable, "-m", "portal", "check"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if result.returncode != 0:
        return [f"python -m portal check refuses the environment: {result.stderr.strip()}"]
    if "settings ok: production" not in result.stdout:
        return [f"not production settings: {result.stdout.strip()}"]
    return []


def _public_url_problems(objects: list[Object], portal: dict[str, Source]) -> list[str]:
    host = urlsplit(portal.get("FRONTDOOR_PUBLIC_URL", ("", ""))[1]).hostname
    problems = []
    for item in objects:
        if item["kind"] != "Ingress":
            continue
        hosts = {rule.get("host") for rule in item["spec"].get("rules", [])}
        tls = {name for entry in item["spec"].get("tls", []) for name in entry.get("hosts", [])}
        if hosts != {host} or host not in tls:
            problems.append(
                f"{_name(item)}: must serve FRONTDOOR_PUBLIC_URL's host {host} over TLS "
                "(Twilio's signatures are checked against that URL)"
            )
    return problems


def _image_problems(objects: list[Object]) -> list[str]:
    problems = []
    for item, template in _workloads(objects):
        for container in _containers(template):
            image = container.get("image", "")
            last = image.rsplit("/", 1)[-1]
            if "@" not in last and (":" not in last or last.endswith(":latest")):
                problems.append(f"{_name(item)}: image {image} names no release (tag or digest)")
    return problems


# -- helpers --------------------------------------------------------------------------------


def matches(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    """Whether a label selector (matchLabels, matchExpressions) selects these labels."""
    for key, value in selector.get("matchLabels", {}).items():
        if labels.get(key) != value:
            return False
    for expression in selector.get("matchExpressions", []):
        key, operator = expression["key"], expression["operator"]
        values = expression.get("values", [])
        present = key in labels
        if (
            (operator == "In" and labels.get(key) not in values)
            or (operator == "NotIn" and present and labels[key] in values)
            or (operator == "Exists" and not present)
            or (operator == "DoesNotExist" and present)
        ):
            return False
    return True


def _workloads(objects: list[Object]) -> Iterator[tuple[Object, Object]]:
    for item in objects:
        template = pod_template(item)
        if template is not None:
            yield item, template


def _containers(template: Object) -> list[Object]:
    spec = template.get("spec", {})
    return [*spec.get("initContainers", []), *spec.get("containers", [])]


def _template_labels(objects: list[Object], component: str) -> dict[str, str] | None:
    for labels in _all_template_labels(objects):
        if labels.get(COMPONENT) == component:
            return labels
    return None


def _all_template_labels(objects: list[Object]) -> list[dict[str, str]]:
    return [template.get("metadata", {}).get("labels", {}) for _, template in _workloads(objects)]


def _name(item: Object) -> str:
    kind, namespace, name = object_id(item)
    return f"{kind} {namespace + '/' if namespace else ''}{name}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="scripts/deploy_check.py", description=__doc__)
    parser.add_argument("--print", type=Path, metavar="KUSTOMIZATION", dest="show")
    args = parser.parse_args(argv)
    if args.show is not None:
        print(yaml.safe_dump_all(render(args.show), sort_keys=False), end="")
        return 0
    failed = False
    for directory, production in ((BASE, False), (PRODUCTION, True)):
        problems = check(directory, production)
        label = directory.relative_to(ROOT)
        for problem in problems:
            print(f"{label}: {problem}")
        if not problems:
            count = len(render(directory))
            print(f"{label}: {count} objects valid for Kubernetes {KUBERNETES_VERSION}")
        failed = failed or bool(problems)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
