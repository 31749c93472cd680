"""deploy/ as an operator applies it: rendered without kustomize (deploy/render.py), valid for
Kubernetes 1.31, locked down, wired together, and giving the portal settings it accepts in
production. The checks must catch what they are for: each has a broken copy to refuse."""

from __future__ import annotations

import copy
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from deploy.render import Object, RenderError, object_id, pod_template, render
from portal.settings import ROOT
from scripts import deploy_check
from scripts.deploy_check import BASE, PRODUCTION, check, matches

PORTAL_IMAGE = "registry.city.example/frontdoor/portal:1.0.0"
BOT_IMAGE = "registry.city.example/frontdoor/bot:1.0.0"


@pytest.fixture(scope="module")
def production() -> list[Object]:
    return render(PRODUCTION)


@pytest.fixture
def objects(production: list[Object]) -> list[Object]:
    """A copy a test may break."""
    return copy.deepcopy(production)


@pytest.fixture
def deploy_copy(tmp_path: Path) -> Path:
    """A copy of deploy/ whose files a test may edit; returns its production overlay."""
    shutil.copytree(ROOT / "deploy", tmp_path / "deploy", ignore=shutil.ignore_patterns("*.py*"))
    return tmp_path / "deploy" / "overlays" / "production"


def find(objects: list[Object], kind: str, name: str) -> Object:
    return next(
        item for item in objects if item["kind"] == kind and item["metadata"]["name"] == name
    )


def template_of(objects: list[Object], name: str) -> Object:
    template = pod_template(
        find(objects, "Job" if name.endswith("migrate") else "Deployment", name)
    )
    assert template is not None
    return template


def container(objects: list[Object], name: str) -> Object:
    found: Object = template_of(objects, name)["spec"]["containers"][0]
    return found


def test_base_and_production_pass_every_check() -> None:
    assert check(BASE, production=False) == []
    assert check(PRODUCTION, production=True) == []


@pytest.mark.skipif(
    not (shutil.which("kustomize") or shutil.which("kubectl")), reason="no kustomize here"
)
@pytest.mark.parametrize("directory", [BASE, PRODUCTION], ids=["base", "production"])
def test_the_renderer_builds_what_kustomize_builds(directory: Path) -> None:
    command = ["kustomize", "build"] if shutil.which("kustomize") else ["kubectl", "kustomize"]
    output = subprocess.run(
        [*command, str(directory)], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    theirs = {object_id(item): item for item in yaml.safe_load_all(output) if item}
    ours = {object_id(item): item for item in render(directory)}
    assert ours == theirs


def test_production_runs_the_three_processes_and_the_migrations(production: list[Object]) -> None:
    assert container(production, "frontdoor-portal")["command"] == [
        "python", "-m", "portal", "serve",
    ]  # fmt: skip
    assert container(production, "frontdoor-worker")["command"] == [
        "python", "-m", "portal", "worker",
    ]  # fmt: skip
    assert container(production, "frontdoor-migrate")["command"] == ["alembic", "upgrade", "head"]
    migrate = find(production, "Job", "frontdoor-migrate")
    assert migrate["spec"]["template"]["spec"]["restartPolicy"] == "Never"
    for name in ("frontdoor-portal", "frontdoor-worker", "frontdoor-migrate"):
        assert container(production, name)["image"] == PORTAL_IMAGE
    assert container(production, "frontdoor-bot")["image"] == BOT_IMAGE
    # The same environment everywhere the portal's code runs: the migrations check it too.
    environments = [
        (container(production, name)["envFrom"], container(production, name)["env"])
        for name in ("frontdoor-portal", "frontdoor-worker", "frontdoor-migrate")
    ]
    assert environments[0] == environments[1] == environments[2]


def test_every_container_is_locked_down_and_bounded(production: list[Object]) -> None:
    workloads = [item for item in production if pod_template(item) is not None]
    assert len(workloads) == 4
    for item in workloads:
        template = pod_template(item)
        assert template is not None
        spec = template["spec"]
        assert spec["securityContext"]["runAsNonRoot"] is True
        assert spec["securityContext"]["runAsUser"] == 10001
        assert spec["automountServiceAccountToken"] is False
        tmp = {volume["name"] for volume in spec["volumes"] if "emptyDir" in volume}
        for each in spec["containers"]:
            context = each["securityContext"]
            assert context["allowPrivilegeEscalation"] is False
            assert context["readOnlyRootFilesystem"] is True
            assert context["capabilities"] == {"drop": ["ALL"]}
            assert context["seccompProfile"] == {"type": "RuntimeDefault"}
            assert {"cpu", "memory"} <= set(each["resources"]["requests"])
            assert {"cpu", "memory"} <= set(each["resources"]["limits"])
            assert any(m["mountPath"] == "/tmp" and m["name"] in tmp for m in each["volumeMounts"])
    namespace = find(production, "Namespace", "frontdoor")
    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"


def test_the_images_run_as_the_user_the_pods_ask_for() -> None:
    """runAsUser must be the images' own user, or the pods would run as a user without a home
    and the files they own (the portal's var/) would not be theirs."""
    for dockerfile in (ROOT / "Dockerfile", ROOT / "chatbot" / "Dockerfile"):
        text = dockerfile.read_text(encoding="utf-8")
        assert re.search(r"useradd .*--uid 10001", text), dockerfile
        assert re.search(r"^USER \S+", text, re.M), dockerfile


def test_the_portal_and_the_bot_have_probes_the_worker_a_grace_period(
    production: list[Object],
) -> None:
    portal = container(production, "frontdoor-portal")
    assert portal["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert portal["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
    assert portal["startupProbe"]["httpGet"]["path"] == "/healthz"
    assert {"name": "http", "containerPort": 8000, "protocol": "TCP"} in portal["ports"]
    assert {"name": "metrics", "containerPort": 9464, "protocol": "TCP"} in portal["ports"]
    bot = container(production, "frontdoor-bot")
    for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
        assert bot[probe]["httpGet"] == {"path": "/", "port": "http"}
    assert bot["ports"] == [{"name": "http", "containerPort": 5005, "protocol": "TCP"}]
    # On SIGTERM the worker finishes the deliveries it holds and releases their leases.
    worker = template_of(production, "frontdoor-worker")
    assert worker["spec"]["terminationGracePeriodSeconds"] >= 60


def test_the_autoscaler_owns_the_portal_replicas(production: list[Object]) -> None:
    autoscaler = find(production, "HorizontalPodAutoscaler", "frontdoor-portal")
    assert autoscaler["spec"]["scaleTargetRef"] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": "frontdoor-portal",
    }
    assert (autoscaler["spec"]["minReplicas"], autoscaler["spec"]["maxReplicas"]) == (3, 12)
    assert "replicas" not in find(production, "Deployment", "frontdoor-portal")["spec"]
    assert find(production, "Deployment", "frontdoor-worker")["spec"]["replicas"] == 2
    budgets = [item for item in production if item["kind"] == "PodDisruptionBudget"]
    assert {item["metadata"]["name"] for item in budgets} == {
        "frontdoor-portal",
        "frontdoor-worker",
        "frontdoor-bot",
    }


def test_only_the_portal_and_the_worker_reach_the_bot(production: list[Object]) -> None:
    """The worker runs the portal's image and answers the texts a portal could not."""
    labels = {
        name: template_of(production, f"frontdoor-{name}")["metadata"]["labels"]
        for name in ("portal", "worker", "bot", "migrate")
    }
    policies = [item for item in production if item["kind"] == "NetworkPolicy"]
    on_bot = [p for p in policies if matches(p["spec"]["podSelector"], labels["bot"])]
    peers = [
        peer
        for policy in on_bot
        for rule in policy["spec"].get("ingress", [])
        for peer in rule["from"]
    ]
    assert peers, "the portal must be let in"
    for peer in peers:
        assert set(peer) == {"podSelector"}, "nothing from another namespace or address"
        assert matches(peer["podSelector"], labels["portal"])
        assert matches(peer["podSelector"], labels["worker"])
        assert not any(matches(peer["podSelector"], labels[n]) for n in ("bot", "migrate"))
    deny = find(production, "NetworkPolicy", "frontdoor-default-deny")
    assert deny["spec"] == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}


def test_the_ingress_serves_the_public_url_over_tls(production: list[Object]) -> None:
    config = find(production, "ConfigMap", "frontdoor-config")["data"]
    assert config["FRONTDOOR_ENV"] == "production"
    assert config["FRONTDOOR_PUBLIC_URL"] == "https://frontdoor.example"
    ingress = find(production, "Ingress", "frontdoor-portal")["spec"]
    assert [rule["host"] for rule in ingress["rules"]] == ["frontdoor.example"]
    assert ingress["tls"] == [{"hosts": ["frontdoor.example"], "secretName": "frontdoor-tls"}]


# -- the checks refuse what they are for ----------------------------------------------------


def test_a_field_of_the_wrong_type_or_name_is_refused(objects: list[Object]) -> None:
    worker = find(objects, "Deployment", "frontdoor-worker")
    worker["spec"]["replicas"] = "two"
    container(objects, "frontdoor-bot")["imagePullPolize"] = "Always"
    problems = deploy_check.schema_problems(objects)
    assert any(
        "frontdoor-worker: spec.replicas: 'two' is not of type 'integer'" in p for p in problems
    )
    assert any("frontdoor-bot" in p and "imagePullPolize" in p for p in problems)
    assert len(problems) == 2


def test_a_setting_missing_from_the_overlay_is_refused(deploy_copy: Path) -> None:
    config = deploy_copy / "config.yaml"
    text = config.read_text()
    config.write_text(text.replace("  FRONTDOOR_TWILIO_API_URL: https://api.twilio.com\n", ""))
    problems = check(deploy_copy, production=True)
    assert any("FRONTDOOR_TWILIO_API_URL points at the sandbox" in p for p in problems), problems
    config.write_text(text.replace("  FRONTDOOR_SMTP_HOST: smtp.city.example\n", ""))
    assert check(deploy_copy, production=True) == [
        "FRONTDOOR_SMTP_HOST is not set, and its default is for a local run"
    ]


def test_a_misspelt_name_or_a_setting_given_twice_is_refused(deploy_copy: Path) -> None:
    config = deploy_copy / "config.yaml"
    config.write_text(
        config.read_text()
        + "  FRONTDOOR_PUBLIC_ULR: https://frontdoor.example\n"
        + "  FRONTDOOR_PAYMENTS_API_KEY: key-in-plain-sight\n"
    )
    problems = check(deploy_copy, production=True)
    assert any(
        "FRONTDOOR_PUBLIC_ULR is not a setting (did you mean FRONTDOOR_PUBLIC_URL?)" in p
        for p in problems
    )
    # The Secret's key would win, silently: the plain one must not be there at all.
    assert (
        "Deployment frontdoor/frontdoor-portal: FRONTDOOR_PAYMENTS_API_KEY is in ConfigMap "
        "frontdoor-config and in env, which wins" in problems
    )


def test_a_credential_given_in_plain_config_is_refused(objects: list[Object]) -> None:
    for name in ("frontdoor-portal", "frontdoor-worker", "frontdoor-migrate"):
        env = container(objects, name)["env"]
        env[:] = [variable for variable in env if variable["name"] != "FRONTDOOR_DATABASE_URL"]
    config = find(objects, "ConfigMap", "frontdoor-config")["data"]
    config["FRONTDOOR_DATABASE_URL"] = "postgresql://frontdoor:password@db/frontdoor"
    keys = deploy_check.secrets_example_keys(PRODUCTION / "secrets.env.example")
    problems = deploy_check.settings_problems(objects, keys)
    assert problems == [
        "FRONTDOOR_DATABASE_URL is a credential: take it from the Secret frontdoor-secrets",
        "FRONTDOOR_DATABASE_URL is in secrets.env.example but no container takes it",
    ]


def test_a_secret_no_container_takes_is_refused(deploy_copy: Path) -> None:
    secrets = deploy_copy / "secrets.env.example"
    secrets.write_text(secrets.read_text() + "FRONTDOOR_SENTRY_DSN=\n")
    assert check(deploy_copy, production=True) == [
        "FRONTDOOR_SENTRY_DSN is in secrets.env.example but no container takes it"
    ]


def test_a_loosened_pod_or_network_is_refused(objects: list[Object]) -> None:
    context = container(objects, "frontdoor-worker")["securityContext"]
    context["readOnlyRootFilesystem"] = False
    del context["capabilities"]
    bot_policy = find(objects, "NetworkPolicy", "frontdoor-bot")
    bot_policy["spec"]["ingress"][0]["from"].append({"podSelector": {}})
    backends = find(objects, "NetworkPolicy", "frontdoor-backends")
    backends["spec"]["egress"][1]["to"][0]["ipBlock"] = {"cidr": "0.0.0.0/0"}
    problems = deploy_check.security_problems(objects) + deploy_check.network_problems(
        objects, production=True
    )
    worker = "Deployment frontdoor/frontdoor-worker container worker"
    assert f"{worker}: readOnlyRootFilesystem must be true" in problems
    assert f"{worker}: capabilities must drop ALL and add none" in problems
    assert (
        "NetworkPolicy frontdoor/frontdoor-bot: admits the bot from pods other than the portal "
        "and worker" in problems
    )
    where = "NetworkPolicy frontdoor/frontdoor-backends"
    assert f"{where}: egress to 0.0.0.0/0 lets 169.254.0.0/16 through" in problems


def test_an_autoscaled_deployment_with_replicas_is_refused(objects: list[Object]) -> None:
    find(objects, "Deployment", "frontdoor-portal")["spec"]["replicas"] = 3
    problems = deploy_check.wiring_problems(objects)
    assert problems == [
        "Deployment frontdoor/frontdoor-portal: sets replicas although "
        "HorizontalPodAutoscaler frontdoor/frontdoor-portal owns the count "
        "(each apply would reset it)"
    ]


def test_the_renderer_refuses_what_it_does_not_do(deploy_copy: Path) -> None:
    kustomization = deploy_copy / "kustomization.yaml"
    kustomization.write_text(kustomization.read_text() + "commonLabels: {team: city}\n")
    with pytest.raises(RenderError, match="commonLabels"):
        render(deploy_copy)
    assert check(deploy_copy, production=True)[0].startswith("render: ")


def test_the_renderer_merges_patches_as_kustomize_does(tmp_path: Path) -> None:
    """Containers and env merge by name, maps merge, null deletes, other lists are replaced."""
    base = tmp_path / "base"
    base.mkdir()
    deployment: dict[str, Any] = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "app", "labels": {"keep": "me", "drop": "me"}},
        "spec": {
            "template": {
                "spec": {
                    "containers": [
                        {"name": "a", "image": "img:1", "env": [{"name": "X", "value": "1"}]},
                        {"name": "b", "image": "other@sha256:abc", "args": ["one", "two"]},
                    ]
                }
            }
        },
    }
    (base / "app.yaml").write_text(yaml.safe_dump(deployment))
    (base / "kustomization.yaml").write_text("resources: [app.yaml]\n")
    (tmp_path / "patch.yaml").write_text(
        yaml.safe_dump(
            {
                "apiVersion": "apps/v1",
                "kind": "Deployment",
                "metadata": {"name": "app", "labels": {"drop": None}},
                "spec": {
                    "template": {
                        "spec": {
                            "containers": [
                                {"name": "a", "env": [{"name": "Y", "value": "2"}]},
                                {"name": "b", "args": ["three"]},
                            ]
                        }
                    }
                },
            }
        )
    )
    (tmp_path / "kustomization.yaml").write_text(
        "resources: [base]\npatches: [{path: patch.yaml}]\nnamespace: city\n"
        "images: [{name: img, newName: registry.example/img, newTag: '2'}]\n"
    )
    [app] = render(tmp_path)
    assert app["metadata"] == {"name": "app", "namespace": "city", "labels": {"keep": "me"}}
    a, b = app["spec"]["template"]["spec"]["containers"]
    assert a == {
        "name": "a",
        "image": "registry.example/img:2",
        "env": [{"name": "X", "value": "1"}, {"name": "Y", "value": "2"}],
    }
    assert b == {"name": "b", "image": "other@sha256:abc", "args": ["three"]}
