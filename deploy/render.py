"""Render a kustomization as `kubectl kustomize` does, for the few features deploy/ uses.

So the manifests are checked where no kustomize binary is (CI, a developer's machine). Only
these fields of kustomization.yaml are understood; any other field is refused, so a feature
added to deploy/ without being added here fails loudly instead of rendering differently:

- `resources`: YAML files (several documents each) and directories holding a kustomization,
  each rendered on its own first, as Kustomize does;
- `patches`: `path:` to strategic-merge patches (one or more documents), each applied to the
  object of its apiVersion group, kind and name. Maps merge, `null` deletes a key, lists of
  containers, env, volumes and volume mounts merge by their keys, other lists are replaced;
  container and Service `ports` lists, and `$patch` directives, are refused;
- `namespace`: set on every object but cluster-scoped ones;
- `labels`: `pairs` added to every object's labels, and with `includeTemplates` to pod template
  labels; `includeSelectors: true` is refused (selectors are written out in the base);
- `images`: `name` matched against container images, `newName`, `newTag`, `digest`.

Transformers run in Kustomize's order: patches, namespace, labels, images.
tests/test_deploy.py compares this with `kubectl kustomize` where one is installed.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml

Object = dict[str, Any]

KUSTOMIZATION_FIELDS = {
    "apiVersion",
    "kind",
    "resources",
    "patches",
    "namespace",
    "labels",
    "images",
}
CLUSTER_SCOPED = {
    "Namespace",
    "ClusterRole",
    "ClusterRoleBinding",
    "CustomResourceDefinition",
    "IngressClass",
    "PersistentVolume",
    "PriorityClass",
    "StorageClass",
}
# Where each workload kind keeps its pod template.
POD_TEMPLATES: dict[str, tuple[str, ...]] = {
    "Deployment": ("spec", "template"),
    "StatefulSet": ("spec", "template"),
    "DaemonSet": ("spec", "template"),
    "ReplicaSet": ("spec", "template"),
    "Job": ("spec", "template"),
    "CronJob": ("spec", "jobTemplate", "spec", "template"),
}
# Lists a strategic merge merges item by item, by this key; other lists are replaced.
MERGE_KEYS = {
    "containers": "name",
    "initContainers": "name",
    "env": "name",
    "volumes": "name",
    "volumeMounts": "mountPath",
}


class RenderError(Exception):
    """The kustomization asks for something this renderer does not do, or cannot be built."""


def render(directory: Path) -> list[Object]:
    """Every object the kustomization in `directory` builds, in the order of its resources."""
    directory = directory.resolve()
    path = directory / "kustomization.yaml"
    if not path.exists():
        raise RenderError(f"{directory}: no kustomization.yaml")
    kustomization = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    unknown = set(kustomization) - KUSTOMIZATION_FIELDS
    if unknown:
        raise RenderError(f"{path}: fields this renderer does not do: {sorted(unknown)}")
    objects: list[Object] = []
    for entry in kustomization.get("resources", []):
        target = directory / entry
        objects += render(target) if target.is_dir() else _documents(target)
    for patch in kustomization.get("patches", []):
        if set(patch) != {"path"}:
            raise RenderError(f"{path}: only `patches: - path: FILE` is supported, got {patch}")
        for document in _documents(directory / patch["path"]):
            _apply_patch(objects, document, directory / patch["path"])
    if namespace := kustomization.get("namespace"):
        for item in objects:
            if item["kind"] not in CLUSTER_SCOPED:
                item["metadata"]["namespace"] = namespace
    for labels in kustomization.get("labels", []):
        _add_labels(objects, labels, path)
    for image in kustomization.get("images", []):
        _set_image(objects, image)
    return objects


def object_id(item: Object) -> tuple[str, str, str]:
    """Kind, namespace and name: what tells two rendered objects apart."""
    metadata = item["metadata"]
    return item["kind"], metadata.get("namespace", ""), metadata["name"]


def pod_template(item: Object) -> Object | None:
    """The pod template of a workload, or None for other kinds."""
    keys = POD_TEMPLATES.get(item["kind"])
    if keys is None:
        return None
    node: Any = item
    for key in keys:
        node = node.get(key, {})
    return node if isinstance(node, dict) else None


def _documents(path: Path) -> list[Object]:
    if not path.is_file():
        raise RenderError(f"{path}: no such file")
    found = [doc for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")) if doc]
    for doc in found:
        if not isinstance(doc, dict) or not {"apiVersion", "kind", "metadata"} <= set(doc):
            raise RenderError(f"{path}: a document without apiVersion, kind and metadata")
    return found


def _group(api_version: str) -> str:
    return api_version.rpartition("/")[0]


def _apply_patch(objects: list[Object], patch: Object, source: Path) -> None:
    matches = [
        item
        for item in objects
        if item["kind"] == patch["kind"]
        and item["metadata"]["name"] == patch["metadata"]["name"]
        and _group(item["apiVersion"]) == _group(patch["apiVersion"])
    ]
    if len(matches) != 1:
        what = f"{patch['kind']} {patch['metadata']['name']}"
        raise RenderError(f"{source}: {len(matches)} objects match the patch of {what}")
    index = next(i for i, item in enumerate(objects) if item is matches[0])
    objects[index] = _merge(matches[0], patch, (patch["kind"],))


def _merge(base: Any, patch: Any, path: tuple[str, ...]) -> Any:
    """`patch` merged into `base` as a strategic merge patch does, for the cases documented."""
    if not isinstance(base, dict) or not isinstance(patch, dict):
        return copy.deepcopy(patch)
    merged = dict(base)
    for key, value in patch.items():
        if key.startswith("$"):
            raise RenderError(f"{'.'.join(path)}: patch directive {key} is not supported")
        if value is None:
            merged.pop(key, None)
        elif isinstance(value, list):
            merged[key] = _merge_list(base.get(key), value, (*path, key))
        elif key in merged:
            merged[key] = _merge(merged[key], value, (*path, key))
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def _merge_list(base: Any, patch: list[Any], path: tuple[str, ...]) -> list[Any]:
    key = path[-1]
    if key == "ports" and (path[-2] == "containers" or path[:2] == ("Service", "spec")):
        raise RenderError(f"{'.'.join(path)}: patching ports is not supported; edit the base")
    merge_key = MERGE_KEYS.get(key)
    if merge_key is None or not isinstance(base, list):
        return copy.deepcopy(patch)
    merged = list(base)
    for item in patch:
        if not isinstance(item, dict) or merge_key not in item:
            raise RenderError(f"{'.'.join(path)}: each item needs its {merge_key}")
        where = [i for i, old in enumerate(merged) if old.get(merge_key) == item[merge_key]]
        if where:
            merged[where[0]] = _merge(merged[where[0]], item, path)
        else:
            merged.append(copy.deepcopy(item))
    return merged


def _add_labels(objects: list[Object], entry: Object, source: Path) -> None:
    if entry.get("includeSelectors"):
        raise RenderError(f"{source}: labels with includeSelectors are not supported")
    pairs = entry.get("pairs", {})
    for item in objects:
        item["metadata"].setdefault("labels", {}).update(pairs)
        template = pod_template(item)
        if entry.get("includeTemplates") and template is not None:
            template.setdefault("metadata", {}).setdefault("labels", {}).update(pairs)


def _split_image(image: str) -> tuple[str, str, str]:
    """Name, ":tag" and "@digest" of an image reference (a registry port is not a tag)."""
    name, _, digest = image.partition("@")
    slash = name.rfind("/")
    colon = name.rfind(":")
    tag = ""
    if colon > slash:
        name, tag = name[:colon], name[colon:]
    return name, tag, f"@{digest}" if digest else ""


def _set_image(objects: list[Object], entry: Object) -> None:
    for item in objects:
        template = pod_template(item)
        spec = (template or {}).get("spec", {})
        for container in [*spec.get("initContainers", []), *spec.get("containers", [])]:
            name, tag, digest = _split_image(container.get("image", ""))
            if name != entry["name"]:
                continue
            name = entry.get("newName", name)
            if "newTag" in entry:
                tag = f":{entry['newTag']}"
            if "digest" in entry:
                tag, digest = "", f"@{entry['digest']}"
            container["image"] = name + tag + digest
