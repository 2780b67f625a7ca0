"""deploy/operator: the CRDs generated from the operator's Rust types (a cargo test keeps
crds.yaml equal to what `gateway-operator crds` prints), the operator's RBAC and Deployment
rendered by `kubectl kustomize` and validated by kubernetes-validate; the example custom
resources validated against the CRDs' own schemas (jsonschema), and the example gateway's
configuration through `llm-gateway --check-config`."""

import tempfile
from pathlib import Path

import yaml

from check_kubernetes import CONFIG_ENV, validate
from checks import DEPLOY, check, run

OPERATOR = DEPLOY / "operator"
GROUP = "gateway.llm-secure-gateway.io"


def crds() -> dict[str, dict]:
    docs = [d for d in yaml.safe_load_all((OPERATOR / "crds.yaml").read_text()) if d]
    return {d["spec"]["names"]["kind"]: d for d in docs}


def examples() -> list[dict]:
    out = []
    for path in sorted((OPERATOR / "examples").glob("*.yaml")):
        out += [d for d in yaml.safe_load_all(path.read_text()) if d]
    return out


def test_crds_are_valid_custom_resource_definitions():
    found = crds()
    check(set(found) == {"LlmGateway", "GatewayTenant", "GatewayApiKey"}, f"CRDs: {sorted(found)}")
    validate(list(found.values()), "deploy/operator/crds.yaml")
    for kind, crd in found.items():
        check(crd["spec"]["group"] == GROUP and crd["spec"]["scope"] == "Namespaced", f"{kind}: group and scope")
        version = crd["spec"]["versions"][0]
        check(version["served"] and version["storage"], f"{kind}: served and stored")
        check("status" in version["subresources"], f"{kind}: a status subresource")


def test_operator_manifests_render_and_validate(ctx):
    result = run([str(ctx.tool("kubectl")), "kustomize", str(OPERATOR)])
    check(result.returncode == 0, f"kubectl kustomize deploy/operator:\n{result.stderr}")
    objects = [d for d in yaml.safe_load_all(result.stdout) if d]
    validate(objects, "deploy/operator")
    kinds = {o["kind"]: o for o in objects}
    for kind in ("Namespace", "ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Deployment"):
        check(kind in kinds, f"deploy/operator renders a {kind}")
    pod = kinds["Deployment"]["spec"]["template"]["spec"]
    container = pod["containers"][0]
    check(pod["serviceAccountName"] == kinds["ServiceAccount"]["metadata"]["name"], "the pod runs as the operator's account")
    security = container["securityContext"]
    check(security["readOnlyRootFilesystem"] and security["capabilities"]["drop"] == ["ALL"]
          and not security["allowPrivilegeEscalation"] and pod["securityContext"]["runAsNonRoot"],
          "non-root, read-only root, no capabilities")
    check(container["args"][0] == "run", "the container runs `gateway-operator run`")
    # The role grants what the reconcilers do: each CRD's objects, status and finalizers.
    rules = kinds["ClusterRole"]["rules"]
    granted = {(g, r, v) for rule in rules for g in rule["apiGroups"] for r in rule["resources"] for v in rule["verbs"]}
    for crd in crds().values():
        plural = crd["spec"]["names"]["plural"]
        for resource, verb in ((plural, "watch"), (plural, "patch"), (f"{plural}/status", "patch"),
                               (f"{plural}/finalizers", "update")):
            check((GROUP, resource, verb) in granted, f"the ClusterRole lets the operator {verb} {resource}")
    for resource in ("secrets", "configmaps", "services"):
        check(("", resource, "patch") in granted, f"the ClusterRole lets the operator apply {resource}")
    check(("apps", "deployments", "patch") in granted, "the ClusterRole lets the operator apply deployments")
    binding = kinds["ClusterRoleBinding"]
    check(binding["subjects"][0]["namespace"] == kinds["Namespace"]["metadata"]["name"], "the binding names the operator's namespace")


def test_examples_match_the_crd_schemas(ctx):
    import jsonschema

    schemas = {kind: crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"] for kind, crd in crds().items()}
    found = examples()
    check({o["kind"] for o in found} == set(schemas), "an example of each kind")
    for obj in found:
        try:
            jsonschema.validate(obj, schemas[obj["kind"]])
        except jsonschema.ValidationError as e:
            raise AssertionError(f"{obj['kind']}/{obj['metadata']['name']}: {e.message} at {list(e.path)}") from None
        check(obj["apiVersion"] == f"{GROUP}/v1alpha1", f"{obj['kind']}: apiVersion")
    # A mistake the schema must catch: a field that does not exist, a wrong type.
    bad = {"apiVersion": f"{GROUP}/v1alpha1", "kind": "GatewayApiKey", "metadata": {"name": "x"},
           "spec": {"gateway": {"name": "gw"}, "tenant": 7}}
    try:
        jsonschema.validate(bad, schemas["GatewayApiKey"])
    except jsonschema.ValidationError:
        pass
    else:
        raise AssertionError("the GatewayApiKey schema accepts a numeric tenant")
    gateway = next(o for o in found if o["kind"] == "LlmGateway")
    env = {e["env"] for e in gateway["spec"]["providers"]} | {"GATEWAY_ADMIN_TOKEN"}
    check(env <= set(CONFIG_ENV), f"the example's variables are ones validation fills: {sorted(env - set(CONFIG_ENV))}")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "gateway.toml"
        path.write_text(gateway["spec"]["config"])
        ctx.check_config(path, CONFIG_ENV)
